#include <doctest/doctest.h>

#include "worker/sandbox/collected_output.h"

using namespace testfleet::worker;

namespace {
std::string record(const std::string& kind, const std::string& path, const std::string& content, long long size,
                   int truncated) {
  return kind + " " + std::to_string(path.size()) + " " + std::to_string(content.size()) + " " + std::to_string(size) +
         " " + std::to_string(truncated) + "\n" + path + content;
}
}  // namespace

TEST_CASE("the collect stream gives back the report, artifacts and cut paths, in order") {
  const std::string binary("a\0b\nc", 5);
  const std::string stream = record("report", "report", "<testsuite/>", 12, 0) +
                             record("artifact", "logs/run.log", binary, 5, 0) +
                             record("artifact", "big.bin", "xyz", 300000, 1) + record("cut", "huge.bin", "", 9, 1) +
                             record("end", "", "", 0, 0);
  CollectedOutput out = parseCollectedOutput(stream);
  CHECK(out.complete);
  CHECK(out.problem.empty());
  REQUIRE(out.report);
  CHECK(*out.report == "<testsuite/>");
  REQUIRE(out.artifacts.size() == 2);
  CHECK(out.artifacts[0].path == "logs/run.log");
  CHECK(out.artifacts[0].content == binary);
  CHECK(out.artifacts[1].truncated);
  CHECK(out.artifacts[1].size == 300000);
  CHECK(out.cut == std::vector<std::string>{"huge.bin"});
}

TEST_CASE("a stream cut short or malformed keeps what came before and says what was wrong") {
  const std::string good = record("report", "report", "<r/>", 4, 0);
  CollectedOutput cut = parseCollectedOutput(good + "artifact 3 100 100 0\nabcdef");
  CHECK_FALSE(cut.complete);
  CHECK(cut.report == std::optional<std::string>("<r/>"));
  CHECK(cut.artifacts.empty());
  CHECK(cut.problem.find("longer") != std::string::npos);

  CHECK_FALSE(parseCollectedOutput("report -1 2 3 0\n").problem.empty());
  CHECK_FALSE(parseCollectedOutput("report 99999999999999999999 2 3 0\n").problem.empty());
  CHECK_FALSE(parseCollectedOutput("report 1 1 1 7\nab").problem.empty());
  CHECK_FALSE(parseCollectedOutput("evil 0 0 0 0\n").problem.empty());
  CHECK_FALSE(parseCollectedOutput(std::string(100, 'x')).problem.empty());
  CHECK(parseCollectedOutput("").report == std::nullopt);
}

TEST_CASE("the number of records is bounded") {
  std::string many;
  for (int i = 0; i < 50; ++i) many += record("cut", "f", "", 0, 1);
  CollectedOutput out = parseCollectedOutput(many, 10);
  CHECK(out.cut.size() == 10);
  CHECK_FALSE(out.problem.empty());
}
