// The worker's command line (and --config file, and environment), declared straight into the settings of the parts
// main wires: JobLoopSettings, JobRunnerSettings, SandboxOptions. Each default lives in its settings struct, or, where
// it depends on the machine (host name, CPUs, where this binary is), in machineDefaults().
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "common/cli_options.h"
#include "worker/job_loop.h"
#include "worker/job_runner.h"
#include "worker/worker_sandbox.h"

namespace testfleet::worker {

struct WorkerOptions {
  ClusterOptions cluster;
  JobLoopSettings loop;
  JobRunnerSettings runner;
  SandboxOptions sandbox;
  std::string aggregator = "http://127.0.0.1:8480";  // bundles come from here
  std::vector<std::string> bundle_origins;           // and from these
  std::string group_id;                              // --group; empty: <topic prefix>-workers
  std::string transactional_id_prefix;               // empty: <topic prefix>-worker-
  std::string http_address;                          // HOST:PORT of /healthz, /readyz, /metrics; off when empty
  std::string local_suite;                           // --run-suite: run here without Kafka
  std::string local_jobs;                            // --run-jobs: run raw Job records here without Kafka
};

// The defaults that depend on this machine: the worker id (host name), --max-cpus (its CPUs), --stage-runner.
WorkerOptions machineDefaults();

// Declares every option of testfleet-worker into `options`, in groups that --help shows apart.
void addWorkerOptions(CLI::App& app, WorkerOptions& options);

// After the parse: checks what one option alone cannot (the ceilings against the defaults, the bundle origins) and
// fills in the settings that follow from others (client id, topics, work root, uids). Returns what is wrong, naming
// the options, or "".
std::string finishWorkerOptions(WorkerOptions& options);

}  // namespace testfleet::worker
