#include "aggregator/reports/json_report.h"

#include <map>

#include "common/verdict.h"

namespace testfleet::aggregator {

using nlohmann::json;

json runHeaderJson(const RunInfo& run, const Summary& s) {
  const RunVerdict verdict = run.verdict();
  json labels = json::object();
  for (const auto& [k, v] : run.manifest.labels()) labels[k] = v;
  return {
      {"run_id", run.manifest.run_id()},
      {"suite", run.manifest.suite_name()},
      {"labels", labels},
      {"state", run.complete() ? "complete" : "running"},
      {"submitted_at_ms", run.manifest.submitted_at_ms()},
      {"completed_at_ms", run.completed_at_ms},
      {"expected_jobs", run.manifest.expected_jobs()},
      {"jobs_done", verdict.jobs_done},
      {"jobs_failing", verdict.jobs_failing},
      {"passed", verdict.passed},
      {"summary",
       {{"total", s.total}, {"passed", s.passed}, {"failed", s.failed}, {"skipped", s.skipped},
        {"flaky", s.flaky}, {"timeout", s.timeout}, {"oom", s.oom}, {"crashed", s.crashed}, {"error", s.error},
        {"jobs", s.jobs}, {"success_rate", s.success_rate}, {"total_ms", s.total_ms}, {"avg_ms", s.avg_ms},
        {"wall_ms", s.wall_ms}, {"makespan_ms", s.makespan_ms}, {"lower_bound_ms", s.lower_bound_ms},
        {"peak_slots", s.peak_slots}}},
  };
}

json runJson(const RunInfo& run, const Summary& s, const std::vector<v1::Result>& results,
             const std::vector<v1::Result>& attempts) {
  json out = runHeaderJson(run, s);
  std::map<std::string, json> history;  // job id → its attempts
  for (const auto& a : attempts) {
    history[a.job_id()].push_back({{"attempt", a.attempt()}, {"verdict", verdictName(a.verdict())},
                                   {"final", a.final()}, {"error", a.error()}, {"worker", a.worker_id()},
                                   {"stage", a.stage()}});
  }
  int retried = 0;
  json jobs = json::array();
  for (const auto& r : results) {
    json cases = json::array();
    for (const auto& c : r.cases()) {
      cases.push_back({{"name", c.name()}, {"classname", c.classname()}, {"status", verdictName(c.status())},
                       {"duration_ms", c.duration_ms()}, {"message", c.message()}, {"errored", c.errored()}});
    }
    jobs.push_back({{"job_id", r.job_id()}, {"name", r.name()}, {"attempt", r.attempt()},
                    {"verdict", verdictName(r.verdict())}, {"stage", r.stage()}, {"error", r.error()},
                    {"exit_code", r.exit_code()}, {"signal", r.signal()}, {"worker", r.worker_id()},
                    {"unsandboxed", r.unsandboxed()}, {"wall_ms", r.usage().wall_ms()},
                    {"cpu_ms", r.usage().cpu_ms()}, {"peak_memory_bytes", r.usage().peak_memory_bytes()},
                    {"stdout_tail", r.stdout_tail()}, {"stderr_tail", r.stderr_tail()}, {"cases", cases}});
    if (r.listed_size() > 0) jobs.back()["listed"] = json(std::vector<std::string>(r.listed().begin(), r.listed().end()));
    if (r.artifacts_size() > 0) {
      json artifacts = json::array();
      for (const auto& a : r.artifacts()) {
        artifacts.push_back({{"path", a.path()}, {"size", a.size()}, {"truncated", a.truncated()}});
      }
      jobs.back()["artifacts"] = artifacts;
    }
    if (auto it = history.find(r.job_id()); it != history.end() && it->second.size() > 1) {
      jobs.back()["attempts"] = it->second;
      ++retried;
    }
  }
  out["jobs"] = jobs;
  out["summary"]["retried_jobs"] = retried;
  return out;
}

}  // namespace testfleet::aggregator
