// Runs one job: lays out its workspace, has its environment prepared (once per hash), runs it in the sandbox with
// the environment mounted, reads the framework's report, builds the result.
// Thread-safe: each call uses its own folders under the work root.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"
#include "worker/bundle_cache.h"
#include "worker/environment_preparer.h"
#include "worker/job_ceilings.h"
#include "worker/job_executor.h"
#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

struct JobRunnerSettings {
  std::filesystem::path work_root = "/var/tmp/testfleet-worker";
  std::string worker_id;
  size_t output_limit = 1 << 20;  // per stream, kept while running
  size_t tail_bytes = 64 << 10;   // per stream, put in the result
  uint64_t tmp_bytes = 256ull << 20;
  uint64_t workspace_bytes = 1ull << 30;
  uint64_t artifact_bytes = 4ull << 20;      // all of a job's artifacts together (they travel in its result)
  bool keep_workspaces = false;              // for debugging
  uint64_t bundle_cache_bytes = 4ull << 30;  // unpacked bundles kept; least recently used ones go beyond this
  bool allow_file_bundles = false;           // file:// bundle URLs read the worker's own disk: only when asked for
  std::vector<std::string> bundle_origins;   // http(s) bundles only from these origins (urlOrigin form)
  JobDefaults defaults;                      // limits for jobs that do not set their own
  JobCeilings ceilings;  // the most a job may ask for; more is lowered to this, with a note in its result
  uint64_t max_file_bytes = 1ull << 30;     // largest single file a job may write
  size_t output_kill_bytes = 256ull << 20;  // output beyond this kills the job as a flood
  PackageSources package_sources;           // where environments' packages come from (PyPI by default)
  std::chrono::milliseconds environment_timeout{std::chrono::minutes(15)};  // to prepare one environment
};

class JobRunner : public JobExecutor {
 public:
  JobRunner(JobRunnerSettings settings, Sandbox& sandbox);
  v1::Result run(const v1::Job& submitted, const std::atomic<bool>& cancel) override;

 private:
  // The job's declared environment, prepared first when this worker has not got it yet, and recorded in the result
  // (failed or not); none when the job declares none.
  PreparedEnvironment environmentFor(const v1::Job& job, const std::atomic<bool>& cancel, v1::Result& r);

  JobRunnerSettings settings_;
  Sandbox& sandbox_;
  BundleCache bundles_;
  EnvironmentPreparer environments_;
  std::atomic<uint64_t> sequence_{0};
};

}  // namespace testfleet::worker
