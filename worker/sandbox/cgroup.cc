#include "worker/sandbox/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

namespace testfleet::worker {
namespace fs = std::filesystem;
namespace {

bool writeFile(const fs::path& p, const std::string& value) {
  std::ofstream out(p);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

uint64_t readNumber(const fs::path& p) {
  try {
    return std::stoull(readFile(p));
  } catch (const std::exception&) {
    return 0;
  }
}

// "key value" lines (memory.events, cpu.stat, memory.oom_control) → value of key.
uint64_t readKey(const fs::path& p, const std::string& key) {
  std::istringstream lines(readFile(p));
  std::string k;
  uint64_t v = 0;
  while (lines >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

std::vector<pid_t> tasksOf(const fs::path& dir) {
  std::vector<pid_t> pids;
  std::istringstream lines(readFile(dir / "cgroup.procs"));
  pid_t p = 0;
  while (lines >> p) pids.push_back(p);
  return pids;
}

// The worker's own group in a hierarchy, from /proc/self/cgroup ("4:memory:/a/b", "0::/a/b").
std::map<std::string, std::string> ownGroups() {
  std::map<std::string, std::string> out;
  std::istringstream lines(readFile("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::stringstream each(controllers);
    std::string c;
    if (controllers.empty()) out[""] = path;  // v2
    while (std::getline(each, c, ',')) out[c] = path;
  }
  return out;
}

std::atomic<uint64_t> g_sequence{0};

// Removes a directory once its tasks are gone; retries briefly because exiting tasks leave asynchronously.
void removeGroup(const fs::path& dir) {
  for (int i = 0; i < 500; ++i) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  spdlog::warn("could not remove cgroup {}: {}", dir.string(), std::strerror(errno));
}

// Kills every task of a group (repeatedly, as tasks may fork meanwhile) and removes it.
void killAndRemove(const fs::path& dir) {
  for (int round = 0; round < 100; ++round) {
    auto pids = tasksOf(dir);
    if (pids.empty()) break;
    for (pid_t p : pids) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  removeGroup(dir);
}

// A worker killed with SIGKILL leaves its subtree (testfleet-<pid>) behind, sometimes with a process of a job that
// was being set up. Under `parent`, the subtrees of workers that no longer run are emptied and removed. A worker
// that still runs (its pid exists) is never touched; a reused pid only keeps a stale subtree a while longer.
void sweepDeadWorkers(const fs::path& parent) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("testfleet-") || !entry.is_directory(ec)) continue;
    const std::string digits = name.substr(10);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid == ::getpid() || fs::exists("/proc/" + digits, ec)) continue;
    for (const auto& job : fs::directory_iterator(entry.path(), ec)) {
      if (job.is_directory(ec)) killAndRemove(job.path());
    }
    removeGroup(entry.path());
    spdlog::info("removed the cgroups of worker process {}, which no longer runs", pid);
  }
}

// ---- v1: one directory per controller hierarchy --------------------------------------------------------------

class V1JobCgroup : public JobCgroup {
 public:
  explicit V1JobCgroup(std::map<std::string, fs::path> dirs) : dirs_(std::move(dirs)) {}
  ~V1JobCgroup() override {
    killAll();
    for (const auto& [c, d] : dirs_) removeGroup(d);
  }
  std::vector<std::string> procsFiles() const override {
    std::vector<std::string> out;
    for (const auto& [c, d] : dirs_) out.push_back((d / "cgroup.procs").string());
    return out;
  }
  CgroupUsage usage() const override {
    CgroupUsage u;
    if (auto it = dirs_.find("memory"); it != dirs_.end()) {
      u.peak_memory_bytes = readNumber(it->second / "memory.max_usage_in_bytes");
      u.oom_killed = readKey(it->second / "memory.oom_control", "oom_kill") > 0;
    }
    if (auto it = dirs_.find("cpuacct"); it != dirs_.end()) u.cpu_ns = readNumber(it->second / "cpuacct.usage");
    return u;
  }
  void killAll() override {
    auto freezer = dirs_.find("freezer");
    // Any hierarchy lists every task of the job; freezing first stops forks racing the kill.
    const fs::path list = freezer != dirs_.end() ? freezer->second : dirs_.begin()->second;
    for (int round = 0; round < 100; ++round) {
      auto pids = tasksOf(list);
      if (pids.empty()) break;
      if (freezer != dirs_.end()) writeFile(freezer->second / "freezer.state", "FROZEN");
      for (pid_t p : tasksOf(list)) ::kill(p, SIGKILL);
      if (freezer != dirs_.end()) writeFile(freezer->second / "freezer.state", "THAWED");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  std::map<std::string, fs::path> dirs_;
};

class V1Driver : public CgroupDriver {
 public:
  explicit V1Driver(std::map<std::string, fs::path> bases) : bases_(std::move(bases)) {}
  ~V1Driver() override {
    for (const auto& [c, b] : bases_) ::rmdir(b.c_str());
  }
  JobCgroupPtr create(const std::string& name, const JobLimits& limits) override {
    std::map<std::string, fs::path> dirs;
    const std::string leaf = cgroupLeafName(name, g_sequence++);
    for (const auto& [c, base] : bases_) {
      fs::path d = base / leaf;
      if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
        spdlog::error("cannot create cgroup {}: {}", d.string(), std::strerror(errno));
        continue;
      }
      dirs[c] = d;
    }
    auto group = std::make_unique<V1JobCgroup>(dirs);
    if (limits.memory_bytes && dirs.count("memory")) {
      writeFile(dirs["memory"] / "memory.limit_in_bytes", std::to_string(limits.memory_bytes));
      writeFile(dirs["memory"] / "memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes));  // no swap
      writeFile(dirs["memory"] / "memory.swappiness", "0");
    }
    if (limits.max_pids && dirs.count("pids")) writeFile(dirs["pids"] / "pids.max", std::to_string(limits.max_pids));
    if (limits.cpu_millis && dirs.count("cpu")) {
      writeFile(dirs["cpu"] / "cpu.cfs_period_us", "100000");
      writeFile(dirs["cpu"] / "cpu.cfs_quota_us", std::to_string(uint64_t{limits.cpu_millis} * 100));
    }
    return group;
  }
  std::string describe() const override {
    std::string s = "cgroup v1 (";
    for (const auto& [c, b] : bases_) s += c + " ";
    s.back() = ')';
    return s + " in groups named " + bases_.begin()->second.filename().string();
  }

 private:
  std::map<std::string, fs::path> bases_;
};

// ---- v2: one unified directory ---------------------------------------------------------------------------------

class V2JobCgroup : public JobCgroup {
 public:
  explicit V2JobCgroup(fs::path dir) : dir_(std::move(dir)) {}
  ~V2JobCgroup() override {
    killAll();
    removeGroup(dir_);
  }
  std::vector<std::string> procsFiles() const override { return {(dir_ / "cgroup.procs").string()}; }
  CgroupUsage usage() const override {
    CgroupUsage u;
    u.peak_memory_bytes = readNumber(dir_ / "memory.peak");
    u.oom_killed = readKey(dir_ / "memory.events", "oom_kill") > 0;
    u.cpu_ns = readKey(dir_ / "cpu.stat", "usage_usec") * 1000;
    return u;
  }
  void killAll() override {
    for (int round = 0; round < 100 && !tasksOf(dir_).empty(); ++round) {
      if (!writeFile(dir_ / "cgroup.kill", "1")) {
        for (pid_t p : tasksOf(dir_)) ::kill(p, SIGKILL);  // kernels before 5.14
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  fs::path dir_;
};

class V2Driver : public CgroupDriver {
 public:
  explicit V2Driver(fs::path base) : base_(std::move(base)) {}
  ~V2Driver() override { ::rmdir(base_.c_str()); }
  JobCgroupPtr create(const std::string& name, const JobLimits& limits) override {
    fs::path d = base_ / cgroupLeafName(name, g_sequence++);
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      spdlog::error("cannot create cgroup {}: {}", d.string(), std::strerror(errno));
    }
    auto group = std::make_unique<V2JobCgroup>(d);
    if (limits.memory_bytes) {
      writeFile(d / "memory.max", std::to_string(limits.memory_bytes));
      writeFile(d / "memory.swap.max", "0");
    }
    if (limits.max_pids) writeFile(d / "pids.max", std::to_string(limits.max_pids));
    if (limits.cpu_millis) writeFile(d / "cpu.max", std::to_string(uint64_t{limits.cpu_millis} * 100) + " 100000");
    return group;
  }
  std::string describe() const override { return "cgroup v2 under " + base_.string(); }

 private:
  fs::path base_;
};

CgroupDriverPtr tryV2(std::string& why) {
  fs::path mount;
  for (const char* m : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    if (fs::exists(fs::path(m) / "cgroup.controllers")) {
      mount = m;
      break;
    }
  }
  if (mount.empty()) {
    why = "no cgroup2 file system mounted";
    return nullptr;
  }
  auto own = ownGroups();
  fs::path group = mount / fs::path(own[""]).relative_path();
  std::string available = readFile(group / "cgroup.controllers");
  for (const char* c : {"memory", "pids"}) {
    if (available.find(c) == std::string::npos) {
      why = "cgroup v2 at " + group.string() + " offers no " + c + " controller (has: " + available + ")";
      return nullptr;
    }
  }
  // A v2 group with processes cannot hand controllers to children: move the worker into a leaf of its own first.
  fs::path self_leaf = group / ("testfleet-worker-" + std::to_string(::getpid()));
  fs::path base = group / ("testfleet-" + std::to_string(::getpid()));
  sweepDeadWorkers(group);
  std::string want = "+memory +pids";
  if (available.find("cpu") != std::string::npos) want += " +cpu";
  if (!writeFile(group / "cgroup.subtree_control", want)) {
    ::mkdir(self_leaf.c_str(), 0755);
    if (!writeFile(self_leaf / "cgroup.procs", std::to_string(::getpid())) ||
        !writeFile(group / "cgroup.subtree_control", want)) {
      why = "cannot enable controllers in " + group.string() + " (read-only or delegated elsewhere)";
      return nullptr;
    }
  }
  if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) {
    why = "cannot create " + base.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  writeFile(base / "cgroup.subtree_control", want);
  return std::make_unique<V2Driver>(base);
}

CgroupDriverPtr tryV1(std::string& why) {
  auto own = ownGroups();
  std::map<std::string, fs::path> bases;
  for (const char* c : {"memory", "pids", "cpu", "cpuacct", "freezer"}) {
    fs::path mount = fs::path("/sys/fs/cgroup") / c;
    if (!fs::exists(mount / "cgroup.procs") || !own.count(c)) continue;
    const fs::path parent = mount / fs::path(own[c]).relative_path();
    sweepDeadWorkers(parent);
    fs::path base = parent / ("testfleet-" + std::to_string(::getpid()));
    if (::mkdir(base.c_str(), 0755) != 0 && errno != EEXIST) continue;
    if (std::string(c) == "memory") writeFile(base / "memory.use_hierarchy", "1");
    bases[c] = base;
  }
  if (!bases.count("memory") || !bases.count("pids")) {
    for (const auto& [c, b] : bases) ::rmdir(b.c_str());
    why = "cgroup v1 memory and pids hierarchies are not writable under /sys/fs/cgroup";
    return nullptr;
  }
  return std::make_unique<V1Driver>(bases);
}

}  // namespace

std::string cgroupLeafName(const std::string& name, uint64_t sequence) {
  std::string leaf = "job-";
  for (char c : name.substr(0, 40)) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    leaf += plain ? c : '_';
  }
  return leaf + "-" + std::to_string(sequence);
}

CgroupDriverPtr detectCgroups(CgroupMode mode, std::string& why) {
  if (mode == CgroupMode::kOff) {
    why = "cgroups turned off by configuration";
    return nullptr;
  }
  std::string v2_why, v1_why;
  if (mode == CgroupMode::kAuto || mode == CgroupMode::kV2) {
    if (auto d = tryV2(v2_why)) return d;
  }
  if (mode == CgroupMode::kAuto || mode == CgroupMode::kV1) {
    if (auto d = tryV1(v1_why)) return d;
  }
  why = (v2_why.empty() ? "" : "v2: " + v2_why) +
        (v1_why.empty() ? "" : (v2_why.empty() ? "" : "; ") + ("v1: " + v1_why));
  return nullptr;
}

}  // namespace testfleet::worker
