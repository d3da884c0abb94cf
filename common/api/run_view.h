// The aggregator API's view of a run (GET /v1/runs/{id}, report.json, the run list): one type that the aggregator
// writes and the producer reads, so the field names live in one place. The JSON is the wire format; its keys are
// the field names below.
//
// Reading is for untrusted input (whatever answers at --aggregator): a key that is missing keeps the field's
// default, but a key with the wrong type, a number out of its field's range, a string over kMaxViewText or a list
// over kMaxViewItems is refused with RunViewError, naming the key.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace testfleet::api {

inline constexpr size_t kMaxViewText = 1 << 20;     // bytes of one string
inline constexpr size_t kMaxViewItems = 1'000'000;  // entries of one list or map

struct RunViewError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CaseView {
  std::string name;
  std::string classname;
  std::string status;  // a verdict name: "passed", "failed", …
  uint32_t duration_ms = 0;
  std::string message;
  bool errored = false;
  std::string file;   // where the test is, when the framework said; written only when known
  uint32_t line = 0;  // 0: not known
};

// One earlier attempt of a job that was retried.
struct AttemptView {
  uint32_t attempt = 0;
  std::string verdict;
  bool final = false;
  std::string error;
  std::string worker;
  std::string stage;
};

struct ArtifactView {
  std::string path;
  uint64_t size = 0;
  bool truncated = false;
};

// The environment a job ran in (a suite's `environment:`).
struct EnvironmentView {
  std::string sha256;                 // the worker's key: the declaration's hash and its interpreter
  std::vector<std::string> packages;  // "name==version"
  bool prepared = false;              // this attempt prepared it; false: it was ready
};

struct JobView {
  std::string job_id;
  std::string name;
  uint32_t attempt = 0;
  std::string verdict;
  std::string stage;
  std::string error;
  int32_t exit_code = 0;
  int32_t signal = 0;
  std::string worker;
  bool unsandboxed = false;
  uint32_t wall_ms = 0;
  uint32_t cpu_ms = 0;
  uint64_t peak_memory_bytes = 0;
  std::string stdout_tail;
  std::string stderr_tail;
  std::vector<CaseView> cases;
  std::vector<std::string> listed;             // a list_tests job's test ids; written only when there are some
  std::vector<ArtifactView> artifacts;         // written only when there are some
  std::vector<AttemptView> attempts;           // every attempt; written only for a job that was retried
  std::optional<EnvironmentView> environment;  // written only for a job that declared one
};

struct SummaryView {
  int total = 0, passed = 0, failed = 0, skipped = 0, flaky = 0, timeout = 0, oom = 0, crashed = 0, error = 0;
  int jobs = 0;
  double success_rate = 100.0;
  double total_ms = 0, avg_ms = 0, wall_ms = 0;
  double makespan_ms = 0, lower_bound_ms = 0;
  int peak_slots = 0;
  std::optional<int> retried_jobs;  // only in the view with jobs
};

struct RunView {
  std::string run_id;
  std::string suite;
  std::map<std::string, std::string> labels;
  std::string state;  // "running" | "complete" | "cancelled" (a job ended CANCELLED; others may still be ending)
  int64_t submitted_at_ms = 0;
  int64_t completed_at_ms = 0;
  uint32_t expected_jobs = 0;
  uint32_t jobs_done = 0;
  uint32_t jobs_failing = 0;
  std::optional<bool> passed;                // not in the progress view (?jobs=false)
  std::optional<SummaryView> summary;        // not in the progress view nor the run list
  std::optional<std::vector<JobView>> jobs;  // only in the full view

  // The run ended: every job reported, or it was cancelled.
  bool complete() const { return state == "complete" || state == "cancelled"; }
  bool cancelled() const { return state == "cancelled"; }
};

void to_json(nlohmann::json& j, const CaseView& v);
void to_json(nlohmann::json& j, const AttemptView& v);
void to_json(nlohmann::json& j, const ArtifactView& v);
void to_json(nlohmann::json& j, const JobView& v);
void to_json(nlohmann::json& j, const SummaryView& v);
void to_json(nlohmann::json& j, const RunView& v);

// Throw RunViewError on malformed input (see the top of this file).
void from_json(const nlohmann::json& j, CaseView& v);
void from_json(const nlohmann::json& j, AttemptView& v);
void from_json(const nlohmann::json& j, ArtifactView& v);
void from_json(const nlohmann::json& j, JobView& v);
void from_json(const nlohmann::json& j, SummaryView& v);
void from_json(const nlohmann::json& j, RunView& v);

// An HTTP body as a run view; nullopt (and `problem`, when given, says why) when it is not JSON or not a run view.
std::optional<RunView> parseRunView(const std::string& body, std::string* problem = nullptr);

}  // namespace testfleet::api
