#include <doctest/doctest.h>

#include "common/text.h"
#include "worker/result_builder.h"
#include "worker/valid_utf8_job_executor.h"

using namespace testfleet;
using namespace testfleet::worker;

namespace {
// Stands in for JobRunner: builds the result from fixed evidence (what the sandbox saw, the report the test wrote).
class EvidenceExecutor : public JobExecutor {
 public:
  explicit EvidenceExecutor(Evidence evidence) : evidence_(std::move(evidence)) {}
  v1::Result run(const v1::Job& job, const std::atomic<bool>&) override {
    v1::Result r;
    r.set_schema_version(1);
    r.set_run_id(job.run_id());
    r.set_job_id(job.job_id());
    buildResult(job, evidence_, 64 << 10, r);
    r.add_listed("id-\xe9");                     // what readListing adds after buildResult
    r.add_artifacts()->set_path("caf\xe9.log");  // what collectArtifacts adds: a file name the test chose
    return r;
  }

 private:
  Evidence evidence_;
};

Evidence exitedWith(int code, std::string stdout_text) {
  Evidence ev;
  ev.sandbox.end = SandboxOutcome::End::kExited;
  ev.sandbox.exit_code = code;
  ev.sandbox.stdout_text = std::move(stdout_text);
  ev.stages = parseStageLines("test exit " + std::to_string(code) + "\n");
  return ev;
}

v1::Job job() {
  v1::Job j;
  j.set_run_id("run");
  j.set_job_id("job");
  j.set_name("job");
  return j;
}

// What the aggregator does with the record: false is a lost verdict (dead-lettered as undecodable).
bool decodes(const v1::Result& sent, v1::Result& received) {
  return received.ParseFromString(sent.SerializeAsString());
}
}  // namespace

TEST_CASE("a job that prints `caf\\351` and writes a Latin-1 JUnit message gets a result that decodes") {
  Evidence ev = exitedWith(1, "caf\xe9\n");
  ev.format = ReportFormat::kJunitXml;
  ev.report =
      "<testsuite><testcase classname=\"c\" name=\"t\"><failure message=\"caf\xe9\">d\xe9tail</failure>"
      "</testcase></testsuite>";
  EvidenceExecutor runner(ev);
  ValidUtf8JobExecutor executor(runner);
  std::atomic<bool> cancel{false};
  v1::Result received;
  REQUIRE(decodes(executor.run(job(), cancel), received));
  CHECK(received.verdict() == v1::FAILED);
  CHECK(received.stdout_tail() == "caf\xef\xbf\xbd\n");
  REQUIRE(received.cases_size() == 1);
  CHECK(received.cases(0).message() == "caf\xef\xbf\xbd");
  CHECK(received.cases(0).details() == "d\xef\xbf\xbdtail");
  CHECK(received.listed(0) == "id-\xef\xbf\xbd");
  CHECK(received.artifacts(0).path() == "caf\xef\xbf\xbd.log");
}

TEST_CASE("70,000 'é' on stdout: the 64 KiB tail is cut between characters and the result decodes") {
  std::string output;
  for (int i = 0; i < 70000; ++i) output += "\xc3\xa9";
  EvidenceExecutor runner(exitedWith(0, output + "\n"));
  ValidUtf8JobExecutor executor(runner);
  std::atomic<bool> cancel{false};
  v1::Result received;
  REQUIRE(decodes(executor.run(job(), cancel), received));
  CHECK(received.verdict() == v1::PASSED);
  CHECK(received.stdout_tail().find("testfleet cut") != std::string::npos);
  CHECK(received.stdout_tail().find("\xef\xbf\xbd") == std::string::npos);  // no character was split to be replaced
}
