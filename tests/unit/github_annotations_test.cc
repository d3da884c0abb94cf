#include <doctest/doctest.h>

#include <sstream>

#include "producer/github_annotations.h"

using namespace testfleet;
using producer::githubAnnotations;

namespace {

api::CaseView testCase(std::string name, std::string status, std::string message = "") {
  api::CaseView c;
  c.name = std::move(name);
  c.classname = "Cart";
  c.status = std::move(status);
  c.message = std::move(message);
  return c;
}

api::RunView finishedRun(std::vector<api::JobView> jobs) {
  api::RunView run;
  run.run_id = "r1";
  run.state = "complete";
  run.jobs = std::move(jobs);
  return run;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("GitHub annotations: one ::error per failing test, with its file and line when known") {
  api::JobView job;
  job.name = "shop";
  job.verdict = "failed";
  job.cases = {testCase("adds", "passed"), testCase("totals", "failed", "expected 3, got 4"),
               testCase("skips", "skipped", "not today"), testCase("hangs", "timeout")};
  job.cases[1].file = "tests/cart_test.py";
  job.cases[1].line = 17;
  const auto out = lines(githubAnnotations(finishedRun({job})));
  REQUIRE(out.size() == 2);
  CHECK(out[0] == "::error file=tests/cart_test.py,line=17,title=failed%3A Cart%3A%3Atotals (shop)::expected 3, got 4");
  CHECK(out[1] == "::error title=timeout%3A Cart%3A%3Ahangs (shop)::test timeout");
}

TEST_CASE("GitHub annotations: a passing run has none") {
  api::JobView job;
  job.name = "shop";
  job.verdict = "passed";
  job.cases = {testCase("adds", "passed"), testCase("flaky", "flaky")};
  CHECK(githubAnnotations(finishedRun({job})).empty());
}

TEST_CASE("GitHub annotations escape what would end or split a workflow command") {
  CHECK(producer::escapeCommandData("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b");
  CHECK(producer::escapeCommandProperty("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext%3A a%2C b");
  api::JobView job;
  job.name = "j";
  job.verdict = "failed";
  job.cases = {testCase("a,b::c", "failed", "line one\n::error::forged\n100%")};
  job.cases[0].file = "dir,x/odd:name.py";
  const std::string text = githubAnnotations(finishedRun({job}));
  CHECK(text ==
        "::error file=dir%2Cx/odd%3Aname.py,title=failed%3A Cart%3A%3Aa%2Cb%3A%3Ac (j)::line one%0A::error::forged%0A"
        "100%25\n");
}

TEST_CASE("GitHub annotations: a failing job without cases is annotated with its error") {
  api::JobView crashed;
  crashed.name = "native";
  crashed.verdict = "crashed";
  crashed.error = "killed by signal 11";
  api::JobView fine;
  fine.name = "ok";
  fine.verdict = "passed";
  const auto out = lines(githubAnnotations(finishedRun({crashed, fine})));
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "::error title=crashed%3A job native::killed by signal 11");
}

TEST_CASE("GitHub annotations stop at the limit and say how many more failed") {
  api::JobView job;
  job.name = "many";
  job.verdict = "failed";
  for (int i = 0; i < 60; ++i) job.cases.push_back(testCase("t" + std::to_string(i), "failed"));
  const auto out = lines(githubAnnotations(finishedRun({job})));
  REQUIRE(out.size() == producer::kMaxAnnotations + 1);
  CHECK(out[49].starts_with("::error title=failed%3A Cart%3A%3At49 "));
  CHECK(out[50] ==
        "::warning title=testfleet::10 more failing test(s) of run r1 are not annotated; the summary lists "
        "them");
  CHECK(lines(githubAnnotations(finishedRun({job}), 3)).size() == 4);
}
