#include "aggregator/reports/json_report.h"

#include <map>

#include "common/api/run_view.h"
#include "common/verdict.h"

namespace testfleet::aggregator {
namespace {

using nlohmann::json;

api::SummaryView summaryView(const Summary& s) {
  api::SummaryView v;
  v.total = s.total;
  v.passed = s.passed;
  v.failed = s.failed;
  v.skipped = s.skipped;
  v.flaky = s.flaky;
  v.timeout = s.timeout;
  v.oom = s.oom;
  v.crashed = s.crashed;
  v.error = s.error;
  v.jobs = s.jobs;
  v.success_rate = s.success_rate;
  v.total_ms = s.total_ms;
  v.avg_ms = s.avg_ms;
  v.wall_ms = s.wall_ms;
  v.makespan_ms = s.makespan_ms;
  v.lower_bound_ms = s.lower_bound_ms;
  v.peak_slots = s.peak_slots;
  return v;
}

api::RunView runHeaderView(const RunInfo& run, const Summary& s) {
  const RunVerdict verdict = run.verdict();
  api::RunView v;
  v.run_id = run.manifest.run_id();
  v.suite = run.manifest.suite_name();
  v.labels = {run.manifest.labels().begin(), run.manifest.labels().end()};
  v.state = verdict.cancelled ? "cancelled" : run.complete() ? "complete" : "running";
  v.submitted_at_ms = run.manifest.submitted_at_ms();
  v.completed_at_ms = run.completed_at_ms;
  v.expected_jobs = run.manifest.expected_jobs();
  v.jobs_done = verdict.jobs_done;
  v.jobs_failing = verdict.jobs_failing;
  v.passed = verdict.passed;
  v.summary = summaryView(s);
  return v;
}

api::JobView jobView(const v1::Result& r) {
  api::JobView v;
  v.job_id = r.job_id();
  v.name = r.name();
  v.attempt = r.attempt();
  v.verdict = verdictName(r.verdict());
  v.stage = r.stage();
  v.error = r.error();
  v.exit_code = r.exit_code();
  v.signal = r.signal();
  v.worker = r.worker_id();
  v.unsandboxed = r.unsandboxed();
  v.wall_ms = r.usage().wall_ms();
  v.cpu_ms = r.usage().cpu_ms();
  v.peak_memory_bytes = r.usage().peak_memory_bytes();
  v.stdout_tail = r.stdout_tail();
  v.stderr_tail = r.stderr_tail();
  for (const auto& c : r.cases()) {
    v.cases.push_back({c.name(), c.classname(), std::string(verdictName(c.status())), c.duration_ms(), c.message(),
                       c.errored(), c.file(), c.line()});
  }
  v.listed.assign(r.listed().begin(), r.listed().end());
  for (const auto& a : r.artifacts()) v.artifacts.push_back({a.path(), a.size(), a.truncated()});
  if (r.has_environment()) {
    const v1::EnvironmentUsed& e = r.environment();
    v.environment = api::EnvironmentView{e.sha256(), {e.packages().begin(), e.packages().end()}, e.prepared()};
  }
  return v;
}

}  // namespace

json runHeaderJson(const RunInfo& run, const Summary& s) { return runHeaderView(run, s); }

json runJson(const RunInfo& run, const Summary& s, const std::vector<v1::Result>& results,
             const std::vector<v1::Result>& attempts) {
  api::RunView view = runHeaderView(run, s);
  std::map<std::string, std::vector<api::AttemptView>> history;  // job id → its attempts
  for (const auto& a : attempts) {
    history[a.job_id()].push_back(
        {a.attempt(), std::string(verdictName(a.verdict())), a.final(), a.error(), a.worker_id(), a.stage()});
  }
  int retried = 0;
  view.jobs.emplace();
  for (const auto& r : results) {
    api::JobView& job = view.jobs->emplace_back(jobView(r));
    if (auto it = history.find(r.job_id()); it != history.end() && it->second.size() > 1) {
      job.attempts = it->second;
      ++retried;
    }
  }
  view.summary->retried_jobs = retried;
  return view;
}

}  // namespace testfleet::aggregator
