#include "worker/worker_options.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "common/kafka/client_settings.h"
#include "common/kafka/topics.h"
#include "common/result_parts.h"
#include "worker/bundle_cache.h"

namespace testfleet::worker {
namespace {

constexpr uint64_t kMi = 1ull << 20;

void addFleetOptions(CLI::App& app, WorkerOptions& o) {
  const std::string group = "Fleet";
  addClusterOptions(app, o.cluster);
  app.add_option("--group", o.group_id,
                 "consumer group of the workers (default <topic-prefix>-workers: testfleet-workers with the default "
                 "prefix, as before)")
      ->group(group);
  app.add_option("--transactional-id-prefix", o.transactional_id_prefix,
                 "what this worker's transactional id starts with, before its --id (default <topic-prefix>-worker-); "
                 "for clusters whose ACLs grant transactional ids by prefix")
      ->group(group);
  app.add_option(
         "--id", o.loop.worker_id,
         "stable id of this worker (its transactional id is <topic-prefix>-worker-<id>; a restart with the same id "
         "fences the previous instance)")
      ->envname("TESTFLEET_WORKER_ID")
      ->capture_default_str()
      ->group(group);
  app.add_option("--slots", o.loop.slots, "jobs run at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str()
      ->group(group);
  addDurationOption(app, "--grace", o.loop.grace, "on SIGTERM, how long running jobs may finish")->group(group);
  addSizeOption(app, "--result-record-bytes", o.loop.max_result_record_bytes,
                "largest results-topic record; a bigger result travels in several (under the broker's "
                "message.max.bytes, ~1Mi by default)",
                {kMinResultRecordBytes, 8 * kMi})
      ->group(group);
  app.add_option("--http", o.http_address,
                 "serve /healthz, /readyz and /metrics on HOST:PORT (port 0: any free port); off when empty")
      ->group(group);
  app.add_option("--run-suite", o.local_suite,
                 "run this suite's jobs here, one after another, in the same sandbox, without Kafka; print each "
                 "result as a JSON line")
      ->check(CLI::ExistingFile)
      ->group(group);
  app.add_option("--run-jobs", o.local_jobs,
                 "run raw Job records (protobuf JSON, one a line) here as if they came from Kafka; print each result")
      ->check(CLI::ExistingFile)
      ->group(group);
}

void addRetryOptions(CLI::App& app, RetrySettings& retry, double& fault_probability) {
  const std::string group = "Retries";
  app.add_option("--max-attempts", retry.max_attempts,
                 "attempts of a job whose sandbox or workspace failed (ERROR), before a final ERROR")
      ->check(CLI::Range(1, 100))
      ->capture_default_str()
      ->group(group);
  app.add_option("--retry-in-place", retry.in_place, "of those, extra tries on the same worker per delivery")
      ->capture_default_str()
      ->group(group);
  addDurationListOption(
      app, "--retry-delays", retry.delays, kafka::Topics::kRetrySteps,
      "delay of each retry topic (" + std::to_string(kafka::Topics::kRetrySteps) + ", comma-separated)")
      ->group(group);
  app.add_option("--inject-sandbox-faults", fault_probability,
                 "fail this fraction of sandbox set-ups on purpose (chaos testing of retries)")
      ->check(CLI::Range(0.0, 1.0))
      ->group(group);
}

// What a job gets when it asks for nothing (--memory, --pids, --cpus) and the most it may ask for (--max-*).
void addJobLimitOptions(CLI::App& app, JobRunnerSettings& r) {
  const std::string group = "Job limits";
  addSizeOption(app, "--memory", r.defaults.memory_bytes, "default memory limit per job (no swap)", {16 * kMi})
      ->group(group);
  app.add_option("--pids", r.defaults.max_pids, "default process limit per job")->capture_default_str()->group(group);
  addScaledOption(app, "--cpus", r.defaults.cpu_millis, 1000, "default CPU limit per job, in cores",
                  CLI::Range(0.01, 1024.0))
      ->group(group);
  addSizeOption(app, "--max-memory", r.ceilings.memory_bytes,
                "the most memory a job may ask for (more is lowered to this, noted)")
      ->group(group);
  addScaledOption(app, "--max-cpus", r.ceilings.cpu_millis, 1000, "the most CPU a job may ask for, in cores",
                  CLI::Range(0.01, 1024.0))
      ->group(group);
  app.add_option("--max-pids", r.ceilings.max_pids, "the most processes a job may ask for")
      ->check(CLI::Range(16u, 4194304u))
      ->capture_default_str()
      ->group(group);
  addDurationOption(app, "--max-timeout", r.ceilings.timeout, "the longest timeout a job may ask for",
                    std::chrono::milliseconds(1))
      ->group(group);
  app.add_option("--max-reruns", r.ceilings.reruns, "the most reruns of a failed job (flaky detection)")
      ->check(CLI::Range(0u, 100u))
      ->capture_default_str()
      ->group(group);
  addSizeOption(app, "--workspace-size", r.workspace_bytes,
                "size of each job's /work (a tmpfs; counts against its memory)")
      ->group(group);
  addSizeOption(app, "--artifact-bytes", r.artifact_bytes,
                "all of a job's artifacts together (they travel in its result)", {0, 6 * kMi})
      ->group(group);
  addSizeOption(app, "--max-file-size", r.max_file_bytes, "largest single file a job may write (RLIMIT_FSIZE)")
      ->group(group);
  addSizeOption(app, "--output-flood-limit", r.output_kill_bytes, "output (stdout + stderr) past this kills the job")
      ->group(group);
}

void addSandboxOptions(CLI::App& app, SandboxOptions& s, JobRunnerSettings& r) {
  const std::string group = "Sandbox";
  BubblewrapSettings& bw = s.bubblewrap;
  app.add_option("--work-dir", r.work_root, "where job workspaces are made")->capture_default_str()->group(group);
  app.add_option("--stage-runner", bw.stage_runner, "path of testfleet-stage-runner")
      ->capture_default_str()
      ->group(group);
  app.add_flag("--unsandboxed", s.unsandboxed,
               "run tests WITHOUT isolation (only where namespaces are unavailable; recorded in every result)")
      ->group(group);
  const std::map<std::string, CgroupMode> modes{
      {"auto", CgroupMode::kAuto}, {"v2", CgroupMode::kV2}, {"v1", CgroupMode::kV1}, {"off", CgroupMode::kOff}};
  app.add_option_function<std::string>(
         "--cgroups", [&s, modes](const std::string& mode) { s.cgroups = modes.at(mode); },
         "auto|v2|v1|off: how per-job limits are enforced")
      ->check(CLI::IsMember({"auto", "v2", "v1", "off"}))
      ->default_str("auto")
      ->group(group);
  app.add_option("--sandbox-uid", bw.sandbox_uid,
                 "run as root: jobs run as host uids from this one up, one per slot (a range no account or file uses)")
      ->check(CLI::Range(1000u, 4000000000u))
      ->capture_default_str()
      ->group(group);
  app.add_option("--slirp4netns", bw.slirp4netns, "path of slirp4netns, the network of network: true jobs")
      ->capture_default_str()
      ->group(group);
  app.add_option("--bwrap", bw.bwrap, "path of the bubblewrap binary")->capture_default_str()->group(group);
  app.add_flag_callback(
         "--no-seccomp", [&bw] { bw.seccomp = false; },
         "do not apply the seccomp filter (diagnosis only; weakens the sandbox)")
      ->group(group);
  app.add_flag("--zygotes", s.zygotes,
               "run pytest jobs as forks of a warm zygote that has imported pytest, each in fresh namespaces, "
               "cgroup and seccomp (worker/README.md, Zygotes)")
      ->group(group);
  app.add_flag("--keep-workspaces", r.keep_workspaces, "keep job folders after the job (debugging)")->group(group);
  app.add_option("--shared-cache", bw.shared_cache,
                 "host folder every job sees read-only at /cache ($TESTFLEET_CACHE): prepared dependencies "
                 "(Go modules under go/mod, wheels, npm tarballs) for offline setup")
      ->check(CLI::ExistingDirectory)
      ->envname("TESTFLEET_SHARED_CACHE")
      ->group(group);
}

void addBundleOptions(CLI::App& app, WorkerOptions& o) {
  const std::string group = "Bundles";
  app.add_option("--aggregator", o.aggregator, "the aggregator's URL as this worker reaches it: bundles come from here")
      ->envname("TESTFLEET_AGGREGATOR")
      ->capture_default_str()
      ->group(group);
  app.add_option("--allow-bundle-origin", o.bundle_origins,
                 "also fetch bundles from this origin (scheme://host[:port]); repeatable")
      ->group(group);
  addScaledOption(app, "--bundle-cache-mib", o.runner.bundle_cache_bytes, double(kMi),
                  "unpacked bundles kept, in MiB (least recently used go first)", CLI::Range(1.0, 1048576.0))
      ->group(group);
  app.add_flag("--allow-file-bundles", o.runner.allow_file_bundles,
               "let jobs name bundles by file:// URL (a folder shared with the producer); off: http(s) only")
      ->group(group);
}

void addEnvironmentOptions(CLI::App& app, JobRunnerSettings& r) {
  const std::string group = "Environments";
  PackageSources& p = r.package_sources;
  app.add_option("--pip-index-url", p.index_url,
                 "prepare python environments from this package index (a PyPI mirror) instead of PyPI")
      ->envname("TESTFLEET_PIP_INDEX_URL")
      ->group(group);
  app.add_option("--pip-find-links", p.find_links,
                 "also take wheels from here: a folder as the preparation sees it (/cache/wheels, from "
                 "--shared-cache) or a URL")
      ->envname("TESTFLEET_PIP_FIND_LINKS")
      ->group(group);
  app.add_flag("--pip-offline", p.offline,
               "prepare python environments from --pip-find-links only: no index, no network")
      ->group(group);
  addDurationOption(app, "--environment-timeout", r.environment_timeout, "the longest one preparation may take",
                    std::chrono::seconds(1))
      ->group(group);
}

std::string checkCeilings(const JobRunnerSettings& r) {
  if (r.ceilings.memory_bytes < r.defaults.memory_bytes) return "--max-memory is smaller than --memory";
  if (r.ceilings.cpu_millis < r.defaults.cpu_millis) return "--max-cpus is smaller than --cpus";
  if (r.ceilings.max_pids < r.defaults.max_pids) return "--max-pids is smaller than --pids";
  return "";
}

}  // namespace

WorkerOptions machineDefaults() {
  WorkerOptions o;
  char host[256] = "worker";
  ::gethostname(host, sizeof host - 1);
  o.loop.worker_id = host;
  o.runner.ceilings.cpu_millis = std::max(1u, std::thread::hardware_concurrency()) * 1000;
  const std::filesystem::path here = std::filesystem::read_symlink("/proc/self/exe").parent_path();
  o.sandbox.bubblewrap.stage_runner = here / "testfleet-stage-runner";
  o.sandbox.zygote.script = here / "testfleet-zygote.py";
  o.sandbox.zygote.client = here / "testfleet-zygote-client";
  return o;
}

void addWorkerOptions(CLI::App& app, WorkerOptions& options) {
  addFleetOptions(app, options);
  addRetryOptions(app, options.loop.retry, options.sandbox.fault_probability);
  addJobLimitOptions(app, options.runner);
  addSandboxOptions(app, options.sandbox, options.runner);
  addBundleOptions(app, options);
  addEnvironmentOptions(app, options.runner);
  app.footer(
      "Exit codes: 0 stopped cleanly (SIGTERM); 1 a fatal Kafka error while running; 2 bad command line or "
      "--config file (a bad value, an unknown key, broken YAML), no usable sandbox, or --http cannot listen; 3 "
      "Kafka unreachable at start. With --run-suite or --run-jobs: 0 every job passed, 1 some failed, 2 a bad "
      "suite or jobs file.");
}

std::string finishWorkerOptions(WorkerOptions& o) {
  if (std::string problem = checkCeilings(o.runner); !problem.empty()) {
    return problem +
           ": the ceilings (--max-memory, --max-cpus, --max-pids) must be no smaller than the defaults "
           "(--memory, --cpus, --pids)";
  }
  if (o.runner.package_sources.offline && o.runner.package_sources.find_links.empty()) {
    return "--pip-offline prepares environments from --pip-find-links only: give it too (e.g. /cache/wheels)";
  }
  std::vector<std::string> urls = o.bundle_origins;
  urls.push_back(o.aggregator);
  for (const auto& url : urls) {
    std::string origin = urlOrigin(url);
    if (origin.empty()) {
      return "--aggregator/--allow-bundle-origin: '" + url + "' is not an http(s) URL such as http://aggregator:8480";
    }
    o.runner.bundle_origins.push_back(origin);
  }
  const bool local = !o.local_suite.empty() || !o.local_jobs.empty();
  if (!o.local_suite.empty()) o.runner.allow_file_bundles = true;  // the local run writes its bundles to files
  o.loop.max_reruns = o.runner.ceilings.reruns;
  try {
    o.loop.kafka = kafka::clientSettings(o.cluster, "testfleet-worker-" + o.loop.worker_id);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  // Fleets on one cluster are kept apart by their topic prefix: two workers of different fleets with the same
  // --id must not fence each other (the default prefix keeps the id testfleet-worker-<id>), nor share a group.
  if (o.transactional_id_prefix.empty()) o.transactional_id_prefix = o.cluster.topic_prefix + "-worker-";
  o.loop.transactional_id = o.transactional_id_prefix + o.loop.worker_id;
  o.loop.group_id = o.group_id.empty() ? o.cluster.topic_prefix + "-workers" : o.group_id;
  o.loop.topics = kafka::Topics::withPrefix(o.cluster.topic_prefix);
  o.runner.worker_id = o.loop.worker_id;
  o.runner.work_root /= o.loop.worker_id;
  o.sandbox.bubblewrap.work_root = o.runner.work_root;
  o.sandbox.bubblewrap.sandbox_uids = static_cast<size_t>(local ? 1 : o.loop.slots);
  return "";
}

}  // namespace testfleet::worker
