#include "common/api/run_view.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <type_traits>

namespace testfleet::api {
namespace {

using nlohmann::json;

[[noreturn]] void refuse(const char* key, const std::string& what) {
  throw RunViewError(std::string("run view: '") + key + "' " + what);
}

const json* field(const json& j, const char* key) {
  if (!j.is_object()) throw RunViewError(std::string("run view: the parent of '") + key + "' is not an object");
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

void read(const json& j, const char* key, std::string& out) {
  const json* v = field(j, key);
  if (!v) return;
  if (!v->is_string()) refuse(key, "is not a string");
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > kMaxViewText) refuse(key, "is over " + std::to_string(kMaxViewText) + " bytes");
  out = s;
}

void read(const json& j, const char* key, bool& out) {
  const json* v = field(j, key);
  if (!v) return;
  if (!v->is_boolean()) refuse(key, "is not true or false");
  out = v->get<bool>();
}

void read(const json& j, const char* key, double& out) {
  const json* v = field(j, key);
  if (!v) return;
  if (!v->is_number()) refuse(key, "is not a number");
  out = v->get<double>();
}

template <typename Int>
requires std::is_integral_v<Int>
void read(const json& j, const char* key, Int& out) {
  const json* v = field(j, key);
  if (!v) return;
  constexpr auto lo = std::numeric_limits<Int>::min();
  constexpr auto hi = std::numeric_limits<Int>::max();
  bool fits = false;
  if (v->is_number_unsigned()) {
    fits = v->get<uint64_t>() <= static_cast<uint64_t>(hi);
  } else if (v->is_number_integer()) {
    const int64_t n = v->get<int64_t>();
    fits = n >= static_cast<int64_t>(lo) && (n < 0 || static_cast<uint64_t>(n) <= static_cast<uint64_t>(hi));
  }
  if (!fits) refuse(key, "is not a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  out = v->is_number_unsigned() ? static_cast<Int>(v->get<uint64_t>()) : static_cast<Int>(v->get<int64_t>());
}

template <typename T>
void read(const json& j, const char* key, std::vector<T>& out) {
  const json* v = field(j, key);
  if (!v) return;
  if (!v->is_array()) refuse(key, "is not a list");
  if (v->size() > kMaxViewItems) refuse(key, "has over " + std::to_string(kMaxViewItems) + " entries");
  out.clear();
  out.reserve(v->size());
  for (const auto& item : *v) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!item.is_string() || item.get_ref<const std::string&>().size() > kMaxViewText) {
        refuse(key, "holds something that is not a string of at most " + std::to_string(kMaxViewText) + " bytes");
      }
      out.push_back(item.get<std::string>());
    } else {
      out.push_back(item.get<T>());
    }
  }
}

void read(const json& j, const char* key, std::map<std::string, std::string>& out) {
  const json* v = field(j, key);
  if (!v) return;
  if (!v->is_object()) refuse(key, "is not an object");
  if (v->size() > kMaxViewItems) refuse(key, "has over " + std::to_string(kMaxViewItems) + " entries");
  out.clear();
  for (const auto& [name, value] : v->items()) {
    if (!value.is_string() || value.get_ref<const std::string&>().size() > kMaxViewText) {
      refuse(key, "holds a value that is not a string of at most " + std::to_string(kMaxViewText) + " bytes");
    }
    out[name] = value.get<std::string>();
  }
}

template <typename T>
void readOptional(const json& j, const char* key, std::optional<T>& out) {
  if (!field(j, key)) return;
  T value{};
  read(j, key, value);
  out = std::move(value);
}

void readOptional(const json& j, const char* key, std::optional<SummaryView>& out) {
  const json* v = field(j, key);
  if (v) out = v->get<SummaryView>();
}

}  // namespace

void to_json(json& j, const CaseView& v) {
  j = {{"name", v.name},       {"classname", v.classname}, {"status", v.status}, {"duration_ms", v.duration_ms},
       {"message", v.message}, {"errored", v.errored}};
  if (!v.file.empty()) j["file"] = v.file;
  if (v.line > 0) j["line"] = v.line;
}

void from_json(const json& j, CaseView& v) {
  read(j, "name", v.name);
  read(j, "classname", v.classname);
  read(j, "status", v.status);
  read(j, "duration_ms", v.duration_ms);
  read(j, "message", v.message);
  read(j, "errored", v.errored);
  read(j, "file", v.file);
  read(j, "line", v.line);
}

void to_json(json& j, const AttemptView& v) {
  j = {{"attempt", v.attempt}, {"verdict", v.verdict}, {"final", v.final},
       {"error", v.error},     {"worker", v.worker},   {"stage", v.stage}};
}

void from_json(const json& j, AttemptView& v) {
  read(j, "attempt", v.attempt);
  read(j, "verdict", v.verdict);
  read(j, "final", v.final);
  read(j, "error", v.error);
  read(j, "worker", v.worker);
  read(j, "stage", v.stage);
}

void to_json(json& j, const ArtifactView& v) { j = {{"path", v.path}, {"size", v.size}, {"truncated", v.truncated}}; }

void from_json(const json& j, ArtifactView& v) {
  read(j, "path", v.path);
  read(j, "size", v.size);
  read(j, "truncated", v.truncated);
}

void to_json(json& j, const EnvironmentView& v) {
  j = {{"sha256", v.sha256}, {"packages", v.packages}, {"prepared", v.prepared}};
}

void from_json(const json& j, EnvironmentView& v) {
  read(j, "sha256", v.sha256);
  read(j, "packages", v.packages);
  read(j, "prepared", v.prepared);
}

void to_json(json& j, const JobView& v) {
  j = {{"job_id", v.job_id},
       {"name", v.name},
       {"attempt", v.attempt},
       {"verdict", v.verdict},
       {"stage", v.stage},
       {"error", v.error},
       {"exit_code", v.exit_code},
       {"signal", v.signal},
       {"worker", v.worker},
       {"unsandboxed", v.unsandboxed},
       {"wall_ms", v.wall_ms},
       {"cpu_ms", v.cpu_ms},
       {"peak_memory_bytes", v.peak_memory_bytes},
       {"stdout_tail", v.stdout_tail},
       {"stderr_tail", v.stderr_tail},
       {"cases", v.cases}};
  if (!v.listed.empty()) j["listed"] = v.listed;
  if (!v.artifacts.empty()) j["artifacts"] = v.artifacts;
  if (!v.attempts.empty()) j["attempts"] = v.attempts;
  if (v.environment) j["environment"] = *v.environment;
}

void from_json(const json& j, JobView& v) {
  read(j, "job_id", v.job_id);
  read(j, "name", v.name);
  read(j, "attempt", v.attempt);
  read(j, "verdict", v.verdict);
  read(j, "stage", v.stage);
  read(j, "error", v.error);
  read(j, "exit_code", v.exit_code);
  read(j, "signal", v.signal);
  read(j, "worker", v.worker);
  read(j, "unsandboxed", v.unsandboxed);
  read(j, "wall_ms", v.wall_ms);
  read(j, "cpu_ms", v.cpu_ms);
  read(j, "peak_memory_bytes", v.peak_memory_bytes);
  read(j, "stdout_tail", v.stdout_tail);
  read(j, "stderr_tail", v.stderr_tail);
  read(j, "cases", v.cases);
  read(j, "listed", v.listed);
  read(j, "artifacts", v.artifacts);
  read(j, "attempts", v.attempts);
  if (const json* e = field(j, "environment")) v.environment = e->get<EnvironmentView>();
}

void to_json(json& j, const SummaryView& v) {
  j = {{"total", v.total},
       {"passed", v.passed},
       {"failed", v.failed},
       {"skipped", v.skipped},
       {"flaky", v.flaky},
       {"timeout", v.timeout},
       {"oom", v.oom},
       {"crashed", v.crashed},
       {"error", v.error},
       {"jobs", v.jobs},
       {"success_rate", v.success_rate},
       {"total_ms", v.total_ms},
       {"avg_ms", v.avg_ms},
       {"wall_ms", v.wall_ms},
       {"makespan_ms", v.makespan_ms},
       {"lower_bound_ms", v.lower_bound_ms},
       {"peak_slots", v.peak_slots}};
  if (v.retried_jobs) j["retried_jobs"] = *v.retried_jobs;
}

void from_json(const json& j, SummaryView& v) {
  read(j, "total", v.total);
  read(j, "passed", v.passed);
  read(j, "failed", v.failed);
  read(j, "skipped", v.skipped);
  read(j, "flaky", v.flaky);
  read(j, "timeout", v.timeout);
  read(j, "oom", v.oom);
  read(j, "crashed", v.crashed);
  read(j, "error", v.error);
  read(j, "jobs", v.jobs);
  read(j, "success_rate", v.success_rate);
  read(j, "total_ms", v.total_ms);
  read(j, "avg_ms", v.avg_ms);
  read(j, "wall_ms", v.wall_ms);
  read(j, "makespan_ms", v.makespan_ms);
  read(j, "lower_bound_ms", v.lower_bound_ms);
  read(j, "peak_slots", v.peak_slots);
  readOptional(j, "retried_jobs", v.retried_jobs);
}

void to_json(json& j, const RunView& v) {
  j = {{"run_id", v.run_id},
       {"suite", v.suite},
       {"labels", v.labels},
       {"state", v.state},
       {"submitted_at_ms", v.submitted_at_ms},
       {"completed_at_ms", v.completed_at_ms},
       {"expected_jobs", v.expected_jobs},
       {"jobs_done", v.jobs_done},
       {"jobs_failing", v.jobs_failing}};
  if (v.passed) j["passed"] = *v.passed;
  if (v.summary) j["summary"] = *v.summary;
  if (v.jobs) j["jobs"] = *v.jobs;
}

void from_json(const json& j, RunView& v) {
  read(j, "run_id", v.run_id);
  read(j, "suite", v.suite);
  read(j, "labels", v.labels);
  read(j, "state", v.state);
  read(j, "submitted_at_ms", v.submitted_at_ms);
  read(j, "completed_at_ms", v.completed_at_ms);
  read(j, "expected_jobs", v.expected_jobs);
  read(j, "jobs_done", v.jobs_done);
  read(j, "jobs_failing", v.jobs_failing);
  readOptional(j, "passed", v.passed);
  readOptional(j, "summary", v.summary);
  readOptional(j, "jobs", v.jobs);
}

std::optional<RunView> parseRunView(const std::string& body, std::string* problem) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    if (problem) *problem = "not a JSON object";
    return std::nullopt;
  }
  try {
    return doc.get<RunView>();
  } catch (const RunViewError& e) {
    if (problem) *problem = e.what();
    return std::nullopt;
  }
}

}  // namespace testfleet::api
