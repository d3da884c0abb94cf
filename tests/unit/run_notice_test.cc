#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "aggregator/notify/http_run_notifier.h"
#include "aggregator/notify/run_notice.h"
#include "common/bundle.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using json = nlohmann::json;

namespace {
// A complete run of two jobs, one of them failed, submitted at 1 s and completed at 42 s.
RunInfo failedRun() {
  RunInfo run;
  run.manifest.set_run_id("r1");
  run.manifest.set_suite_name("unit");
  run.manifest.set_expected_jobs(2);
  run.manifest.set_submitted_at_ms(1000);
  (*run.manifest.mutable_labels())["repository"] = "acme/widgets";
  (*run.manifest.mutable_labels())["commit"] = "0123abcd";
  run.job_verdicts = {{v1::PASSED, 1}, {v1::FAILED, 1}};
  run.completed_at_ms = 42000;
  return run;
}

Summary counts(int passed, int failed, int flaky, int skipped, int error) {
  Summary s;
  s.passed = passed;
  s.failed = failed;
  s.flaky = flaky;
  s.skipped = skipped;
  s.error = error;
  s.total = passed + failed + flaky + skipped + error;
  return s;
}
}  // namespace

TEST_CASE("HMAC-SHA256 matches RFC 4231's test vectors") {
  CHECK(hmacSha256Hex(std::string(20, '\x0b'), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");  // test case 1
  CHECK(hmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");  // test case 2
  CHECK(webhookSignature("Jefe", "what do ya want for nothing?") ==
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("a webhook's JSON body carries the run's verdict, counts, duration, labels and link") {
  const RunNotice notice = makeRunNotice(failedRun(), counts(3, 1, 1, 2, 0), "http://ci.example/");
  const json body = json::parse(webhookBody(notice, WebhookFormat::kJson));
  CHECK(body["event"] == "run.completed");
  CHECK(body["run_id"] == "r1");
  CHECK(body["suite"] == "unit");
  CHECK(body["verdict"] == "failed");
  CHECK(body["counts"]["passed"] == 3);
  CHECK(body["counts"]["failed"] == 1);
  CHECK(body["counts"]["flaky"] == 1);
  CHECK(body["counts"]["skipped"] == 2);
  CHECK(body["counts"]["errors"] == 0);
  CHECK(body["counts"]["total"] == 7);
  CHECK(body["duration_ms"] == 41000);
  CHECK(body["labels"]["repository"] == "acme/widgets");
  CHECK(body["link"] == "http://ci.example/v1/runs/r1/report.html");

  const RunNotice unlinked = makeRunNotice(failedRun(), counts(3, 1, 1, 2, 0), "");
  CHECK_FALSE(json::parse(webhookBody(unlinked, WebhookFormat::kJson)).contains("link"));
}

TEST_CASE("a Slack webhook's body is one line of text with the link") {
  const RunNotice notice = makeRunNotice(failedRun(), counts(3, 1, 1, 2, 0), "http://ci.example");
  const json body = json::parse(webhookBody(notice, WebhookFormat::kSlack));
  REQUIRE(body.size() == 1);
  CHECK(body["text"] ==
        "unit: FAILED, 3 passed, 1 failed, 1 flaky, 0 errors, 2 skipped in 41s (run r1) "
        "http://ci.example/v1/runs/r1/report.html");
}

TEST_CASE("a commit status goes to the run's repository and commit, with a state from its verdict") {
  RunInfo run = failedRun();
  auto failed = commitStatus(makeRunNotice(run, counts(3, 1, 0, 0, 0), "http://ci.example"));
  REQUIRE(failed);
  CHECK(failed->path == "/repos/acme/widgets/statuses/0123abcd");
  const json body = json::parse(failed->body);
  CHECK(body["state"] == "failure");
  CHECK(body["context"] == "testfleet");
  CHECK(body["description"] == "3 passed, 1 failed, 0 flaky, 0 errors, 0 skipped");
  CHECK(body["target_url"] == "http://ci.example/v1/runs/r1/report.html");

  CHECK(json::parse(commitStatus(makeRunNotice(run, counts(3, 0, 0, 0, 1), ""))->body)["state"] == "error");
  run.job_verdicts = {{v1::PASSED, 2}};
  CHECK(json::parse(commitStatus(makeRunNotice(run, counts(4, 0, 0, 0, 0), ""))->body)["state"] == "success");

  RunInfo unlabelled = failedRun();
  unlabelled.manifest.mutable_labels()->erase("commit");
  CHECK_FALSE(commitStatus(makeRunNotice(unlabelled, counts(1, 0, 0, 0, 0), "")));
  RunInfo escaping = failedRun();
  (*escaping.manifest.mutable_labels())["repository"] = "acme/../../user";
  CHECK_FALSE(commitStatus(makeRunNotice(escaping, counts(1, 0, 0, 0, 0), "")));
}

TEST_CASE("a notification is retried on no answer, a 5xx or 429, after doubling delays") {
  CHECK(worthRetrying({0, "", "Connection refused"}));
  CHECK(worthRetrying({503, "", ""}));
  CHECK(worthRetrying({429, "", ""}));
  CHECK_FALSE(worthRetrying({400, "", ""}));
  CHECK_FALSE(worthRetrying({404, "", ""}));
  using std::chrono::milliseconds;
  CHECK(retryDelay(milliseconds(1000), 2) == milliseconds(1000));
  CHECK(retryDelay(milliseconds(1000), 3) == milliseconds(2000));
  CHECK(retryDelay(milliseconds(1000), 4) == milliseconds(4000));
}

TEST_CASE("a URL in a notification log line keeps its host only") {
  CHECK(urlForLog("https://hooks.slack.com/services/T0/B0/secret") == "https://hooks.slack.com/…");
  CHECK(urlForLog("http://127.0.0.1:8080") == "http://127.0.0.1:8080");
  CHECK(urlForLog("http://h:1?token=x") == "http://h:1/…");
}
