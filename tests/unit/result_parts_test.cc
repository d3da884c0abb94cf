#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>

#include "common/result_parts.h"

using namespace testfleet;

namespace {
constexpr size_t kBudget = 900 << 10;  // the worker's default --result-record-bytes

v1::Result result() {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id("run");
  r.set_job_id("job");
  r.set_attempt(2);
  r.set_name("big job");
  r.set_verdict(v1::FAILED);
  r.set_final(true);
  r.set_exit_code(1);
  r.set_worker_id("w1");
  r.set_started_at_ms(1000);
  r.set_finished_at_ms(2000);
  r.mutable_usage()->set_wall_ms(1000);
  r.set_stdout_tail(std::string(64 << 10, 'o'));
  r.set_stderr_tail(std::string(64 << 10, 'e'));
  r.set_error("exit code 1");
  r.add_notes("memory lowered");
  return r;
}

// A JUnit-like case: every tenth fails with a message and a body.
void addCases(v1::Result& r, int n) {
  for (int i = 0; i < n; ++i) {
    v1::TestCase* c = r.add_cases();
    c->set_name("test_" + std::to_string(i));
    c->set_classname("suite.module" + std::to_string(i % 50));
    c->set_duration_ms(static_cast<uint32_t>(i % 1000));
    c->set_status(i % 10 == 0 ? v1::FAILED : v1::PASSED);
    if (i % 10 == 0) {
      c->set_message("assert " + std::to_string(i) + " == 0");
      c->set_details(std::string(200, 'd'));
    }
  }
}

std::string randomBytes(size_t n) {
  std::mt19937 rng(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

void checkEveryRecordFits(const std::vector<v1::Result>& parts, size_t budget) {
  for (const auto& p : parts) {
    CHECK(p.ByteSizeLong() <= budget);
    CHECK(p.SerializeAsString().size() <= budget);
  }
}

// The whole result as merged, compared with the original (protobuf equality through the wire form).
bool same(const v1::Result& a, const v1::Result& b) { return a.SerializeAsString() == b.SerializeAsString(); }
}  // namespace

TEST_CASE("a result that fits one record is sent as it is, unnumbered") {
  v1::Result r = result();
  addCases(r, 100);
  auto parts = splitResult(r, kBudget);
  REQUIRE(parts.size() == 1);
  CHECK(same(parts[0], r));
  CHECK(parts[0].part() == 0);
  CHECK(parts[0].parts() == 0);
}

TEST_CASE("50,000 cases: records each under the budget, and merging gives every case back in order") {
  v1::Result r = result();
  addCases(r, 50000);
  REQUIRE(r.ByteSizeLong() > 2 * kBudget);  // today: one record, "Message size too large"
  auto parts = splitResult(r, kBudget);
  CHECK(parts.size() >= 3);
  checkEveryRecordFits(parts, kBudget);
  for (size_t i = 0; i < parts.size(); ++i) {
    CHECK(parts[i].part() == i + 1);
    CHECK(parts[i].parts() == parts.size());
    // Every part says what it is part of and how it ended, so one alone is never mistaken for the result.
    CHECK(parts[i].run_id() == "run");
    CHECK(parts[i].job_id() == "job");
    CHECK(parts[i].attempt() == 2);
    CHECK(parts[i].verdict() == v1::FAILED);
    CHECK(parts[i].final());
  }
  CHECK(parts[0].stdout_tail() == r.stdout_tail());  // the text travels once, in part 1
  CHECK(parts[1].stdout_tail().empty());

  auto merged = mergeResultParts(parts);
  REQUIRE(merged);
  CHECK(merged->cases_size() == 50000);
  CHECK(same(*merged, r));
}

TEST_CASE("the parts merge in any order, a part given twice counts once, and none is missing") {
  v1::Result r = result();
  r.set_stdout_tail("short");  // the 64 KiB tails would be more than half of a 256 KiB record, and be cut
  r.set_stderr_tail("");
  addCases(r, 20000);
  auto parts = splitResult(r, 256 << 10);
  REQUIRE(parts.size() >= 3);
  std::vector<v1::Result> shuffled = parts;
  std::reverse(shuffled.begin(), shuffled.end());
  shuffled.push_back(parts[1]);
  auto merged = mergeResultParts(shuffled);
  REQUIRE(merged);
  CHECK(same(*merged, r));

  std::vector<v1::Result> missing(parts.begin(), parts.end() - 1);
  CHECK_FALSE(mergeResultParts(missing));
  CHECK_FALSE(mergeResultParts({}));
}

TEST_CASE("parts of the same attempt from two senders never mix") {
  v1::Result r = result();
  addCases(r, 20000);
  auto a = splitResult(r, 256 << 10);
  r.set_worker_id("w2");  // a second worker that also committed this attempt
  auto b = splitResult(r, 256 << 10);
  REQUIRE(a.size() == b.size());
  CHECK(resultPartsSender(a[0]) != resultPartsSender(b[0]));
  std::vector<v1::Result> mixed = a;
  mixed.back() = b.back();
  CHECK_FALSE(mergeResultParts(mixed));
}

TEST_CASE("a 4 MiB artifact travels in pieces over the parts and comes back byte for byte") {
  v1::Result r = result();
  addCases(r, 10);
  v1::Artifact* small = r.add_artifacts();
  small->set_path("small.log");
  small->set_content("hello");
  small->set_size(5);
  v1::Artifact* big = r.add_artifacts();
  big->set_path("out/big.bin");
  big->set_content(randomBytes(4 << 20));
  big->set_size(4 << 20);
  v1::Artifact* empty = r.add_artifacts();
  empty->set_path("empty.txt");
  auto parts = splitResult(r, kBudget);
  CHECK(parts.size() == 5);  // 4 MiB over records of 900 KiB
  checkEveryRecordFits(parts, kBudget);
  for (size_t i = 1; i < parts.size(); ++i) {
    REQUIRE(parts[i].artifacts_size() >= 1);
    CHECK(parts[i].artifacts(0).path() == "out/big.bin");
    CHECK(parts[i].artifacts(0).continues());
  }
  auto merged = mergeResultParts(parts);
  REQUIRE(merged);
  REQUIRE(merged->artifacts_size() == 3);
  CHECK_FALSE(merged->artifacts(1).continues());
  CHECK(same(*merged, r));
}

TEST_CASE("what could never fit one record is cut with a note; the rest still arrives") {
  v1::Result r = result();
  r.set_stdout_tail(std::string(2 << 20, 'o'));  // tails are bounded by the worker; here they are not
  addCases(r, 3);
  r.mutable_cases(1)->set_details(std::string(3 << 20, 'x'));  // one case bigger than a record
  r.add_listed(std::string(2 << 20, 'i'));
  auto parts = splitResult(r, kMinResultRecordBytes);
  checkEveryRecordFits(parts, kMinResultRecordBytes);
  auto merged = mergeResultParts(parts);
  REQUIRE(merged);
  REQUIRE(merged->cases_size() == 3);
  CHECK(merged->cases(1).details().find("testfleet cut") != std::string::npos);
  CHECK(merged->cases(2).name() == "test_2");
  CHECK(merged->stdout_tail().find("testfleet cut") != std::string::npos);
  CHECK(merged->listed_size() == 1);
  const auto& notes = merged->notes();
  CHECK(notes[0] == "memory lowered");
  auto noted = [&](const std::string& what) {
    return std::any_of(notes.begin(), notes.end(), [&](const auto& n) { return n.find(what) != std::string::npos; });
  };
  CHECK(noted("1 test case(s) cut to fit a result record of 65536 bytes"));
  CHECK(noted("1 test id(s) cut"));
  CHECK(noted("the output tails, error and notes cut"));
}

TEST_CASE("a budget below the minimum is raised to it") {
  v1::Result r = result();
  r.set_stdout_tail("short");
  r.set_stderr_tail("");
  addCases(r, 5000);
  auto parts = splitResult(r, 1000);
  checkEveryRecordFits(parts, kMinResultRecordBytes);
  CHECK(parts.size() > 1);
  CHECK(same(*mergeResultParts(parts), r));
}

TEST_CASE("part numbering a reader refuses") {
  v1::Result r = result();
  CHECK(resultPartProblem(r).empty());
  r.set_part(2);
  r.set_parts(3);
  CHECK(resultPartProblem(r).empty());
  r.set_part(4);
  CHECK(resultPartProblem(r) == "result part 4 of 3 cannot be");
  r.set_part(0);
  CHECK_FALSE(resultPartProblem(r).empty());
  r.set_part(1);
  r.set_parts(0);
  CHECK_FALSE(resultPartProblem(r).empty());
}
