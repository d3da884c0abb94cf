#include "producer/pytest_collection.h"

#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <set>

#include "common/exception_text.h"
#include "common/frameworks/framework.h"
#include "common/text.h"

namespace testfleet::producer {

suite::CollectedFiles filesOfCollection(std::string_view output, int exit_code) {
  suite::CollectedFiles out;
  if (exit_code != 0 && exit_code != 5) {
    std::string why = exceptionText(output);
    if (output.find("No module named pytest") != std::string_view::npos) why = "pytest is not importable by python3";
    if (why.empty()) {
      std::string_view rest = output.substr(0, output.find_last_not_of(" \n") + 1);
      why = std::string(rest.substr(rest.rfind('\n') + 1));
    }
    out.problem =
        "python3 -m pytest --collect-only exited " + std::to_string(exit_code) + ": " + keepHeadAndTail(why, 300);
    return out;
  }
  std::set<std::string> seen;
  for (const auto& id : makeAdapter(v1::PYTEST)->parseListing(output)) {
    std::string file = id.substr(0, id.find("::"));
    if (seen.insert(file).second) out.files.push_back(std::move(file));
  }
  return out;
}

suite::CollectedFiles collectPytestFiles(const std::filesystem::path& root, v1::Framework) {
  const std::string command = "(cd " + shellQuote(root.string()) +
                              " && PYTHONDONTWRITEBYTECODE=1 timeout 120 python3 -m pytest --collect-only -q "
                              "-p no:cacheprovider --rootdir=.) 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return {.files = {}, .problem = "cannot start python3"};
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe.get())) {
    if (output.size() < (16u << 20)) output.append(buffer, n);
  }
  const int status = ::pclose(pipe.release());
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code == 124) return {.files = {}, .problem = "python3 -m pytest --collect-only took over 120 s"};
  if (code == 127) return {.files = {}, .problem = "python3 is not on the PATH"};
  return filesOfCollection(output, code);
}

}  // namespace testfleet::producer
