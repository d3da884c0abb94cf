// Environments for jobs that declare one: found in the worker's cache by key, or prepared there first by a step
// that runs in the sandbox with a network (or offline from a wheelhouse) and writes a tree that jobs then get
// read-only. Thread-safe: slots wanting the same key prepare it once (EnvironmentCache) and the others wait.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"
#include "worker/environment_cache.h"
#include "worker/python_environment.h"
#include "worker/sandbox/sandbox.h"

namespace testfleet::worker {

struct EnvironmentSettings {
  std::filesystem::path root;  // prepared trees, by key; scratch folders for the preparation steps
  PackageSources sources;
  std::chrono::milliseconds timeout{std::chrono::minutes(15)};  // for one preparation
  JobLimits limits{4ull << 30, 1024, 2000};                     // memory, pids, CPU of a preparation
  uint64_t tmp_bytes = 1ull << 30;                              // /tmp and /work of a preparation
  uint64_t max_bytes = 8ull << 30;                              // of a prepared tree's files: larger is refused
  size_t tail_bytes = 4 << 10;                                  // of pip's output, in a failure's error
};

struct PreparedEnvironment {
  std::filesystem::path dir;  // the tree on the host; empty when it could not be had
  std::string root;           // where the job sees it: /env in a sandbox, dir when unsandboxed
  std::string key;            // the declaration's hash and the interpreter's (environmentKey)
  std::vector<std::string> packages;
  bool prepared = false;  // this call prepared it
  std::string error;      // why not: the preparation's output tail, or the worker's own trouble
};

// packages.txt as a preparation wrote it, which hostile code may have replaced: read only when it is a regular file
// itself (not a link to a host file, not a FIFO that would block the caller), at most 64 KiB, parsed strictly.
std::vector<std::string> readPackageList(const std::filesystem::path& file);

class EnvironmentPreparer {
 public:
  EnvironmentPreparer(EnvironmentSettings settings, Sandbox& sandbox);
  PreparedEnvironment get(const v1::Environment& env, const std::atomic<bool>& cancel);

 private:
  // Runs `script` in the sandbox with `files` in its working folder and `env_dir` (if any) at /env, writable.
  SandboxOutcome runStep(const std::string& name, const std::string& script,
                         const google::protobuf::RepeatedPtrField<v1::WorkspaceFile>& files,
                         const std::filesystem::path& env_dir, const std::atomic<bool>& cancel, std::string& problem);
  // The interpreter's identity, asked once from inside the sandbox; "" with `problem` set when that failed.
  std::string interpreter(const std::atomic<bool>& cancel, std::string& problem);

  EnvironmentSettings settings_;
  Sandbox& sandbox_;
  EnvironmentCache cache_;
  std::atomic<uint64_t> sequence_{0};  // scratch folders' names
  std::mutex mutex_;                   // guards interpreter_ and reused_
  std::string interpreter_;
  std::set<std::string> reused_;  // keys found prepared already, said once each in the log
};

}  // namespace testfleet::worker
