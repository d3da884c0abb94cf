#include "producer/planner.h"

#include <algorithm>

#include "common/text.h"

namespace testfleet::producer {

std::string jobIdFor(const std::string& test_name) { return "j" + shortHash(test_name); }

Plan planRun(const Suite& suite, const std::string& run_id, int64_t now_ms) {
  Plan plan;
  v1::RunManifest& m = plan.manifest;
  m.set_schema_version(1);
  m.set_run_id(run_id);
  m.set_suite_name(suite.name);
  m.set_submitted_at_ms(now_ms);
  m.set_flaky_fails_run(suite.flaky_fails_run);
  for (const auto& [k, v] : suite.labels) (*m.mutable_labels())[k] = v;
  for (const auto& t : suite.tests) {
    v1::Job job;
    job.set_schema_version(1);
    job.set_run_id(run_id);
    job.set_job_id(jobIdFor(t.name));
    job.set_attempt(1);
    job.set_framework(t.framework);
    job.set_name(t.name);
    for (const auto& id : t.tests) job.add_tests(id);
    job.set_command(t.command);
    job.set_junit_file(t.junit_file);
    for (const auto& f : t.files) {
      v1::WorkspaceFile* wf = job.add_files();
      wf->set_path(f.path);
      wf->set_content(f.content);
      wf->set_executable(f.executable);
    }
    for (const auto& [k, v] : t.env) (*job.mutable_env())[k] = v;
    job.mutable_limits()->set_memory_bytes(t.memory_bytes);
    job.mutable_limits()->set_max_pids(t.max_pids);
    job.set_timeout_ms(static_cast<uint32_t>(t.timeout.count()));
    job.set_setup(t.setup);
    job.set_teardown(t.teardown);
    job.set_network(t.network);
    job.set_reruns(t.reruns);
    for (const auto& a : t.artifacts) job.add_artifacts(a);
    job.set_enqueued_at_ms(now_ms);
    m.add_job_ids(job.job_id());
    plan.jobs.push_back(std::move(job));
  }
  m.set_expected_jobs(static_cast<uint32_t>(plan.jobs.size()));
  return plan;
}

size_t orderByHistory(Plan& plan, const std::map<std::string, uint32_t>& durations) {
  size_t known = 0;
  for (const auto& j : plan.jobs) known += durations.count(j.job_id());
  std::stable_sort(plan.jobs.begin(), plan.jobs.end(), [&](const v1::Job& a, const v1::Job& b) {
    auto da = durations.find(a.job_id()), db = durations.find(b.job_id());
    if (da == durations.end() || db == durations.end()) return da == durations.end() && db != durations.end();
    return da->second > db->second;
  });
  return known;
}

}  // namespace testfleet::producer
