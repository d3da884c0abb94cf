#include <doctest/doctest.h>

#include "common/text.h"
#include "worker/sandbox/process.h"

using namespace testfleet;

TEST_CASE("keepHeadAndTail keeps both ends and says what it cut") {
  std::string text = "HEAD" + std::string(10000, 'x') + "TAIL";
  std::string kept = keepHeadAndTail(text, 100);
  CHECK(kept.starts_with("HEAD"));
  CHECK(kept.ends_with("TAIL"));
  CHECK(kept.find("cut 9908 bytes") != std::string::npos);
  CHECK(keepHeadAndTail("short", 100) == "short");
}

TEST_CASE("BoundedOutput streams keep head and tail within the limit") {
  worker::BoundedOutput out(1000);
  out.append("BEGIN", 5);
  std::string chunk(4096, 'y');
  for (int i = 0; i < 100; ++i) out.append(chunk.data(), chunk.size());
  out.append("END", 3);
  std::string text = out.text();
  CHECK(out.total() == 5 + 100 * 4096 + 3);
  CHECK(text.starts_with("BEGIN"));
  CHECK(text.ends_with("END"));
  CHECK(text.size() < 1100);
}

TEST_CASE("shellQuote survives quotes") {
  CHECK(shellQuote("it's") == "'it'\\''s'");
  CHECK(shellQuote("a b") == "'a b'");
}

TEST_CASE("shortHash is stable and distinguishes inputs") {
  CHECK(shortHash("abc") == shortHash("abc"));
  CHECK(shortHash("abc") != shortHash("abd"));
  CHECK(shortHash("abc").size() == 16);
}
