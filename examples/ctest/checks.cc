// The code under test and its checks, one per command-line argument; CTest runs each as a test.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

static int parse(const char* s) { return std::atoi(s); }

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  if (what == "parse") return parse("42") == 42 ? 0 : 1;
  if (what == "add") return parse("2") + parse("3") == 5 ? 0 : 1;
  if (what == "round") {
    std::cerr << "expected 0.3, got " << 0.1 + 0.2 << " (fails on purpose)\n";
    return 0.1 + 0.2 == 0.3 ? 0 : 1;
  }
  if (what == "network") {
    std::cout << "no network in the sandbox: skipped\n";
    return 77;  // SKIP_RETURN_CODE
  }
  if (what == "crash") {
    volatile int* p = nullptr;
    return *p;  // a crash, not a failed check (errors on purpose)
  }
  return 2;
}
