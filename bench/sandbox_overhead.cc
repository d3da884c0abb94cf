// Start-up cost of the sandbox: plain fork+exec of /bin/true against the same through each layer testfleet adds,
// and a trivial pytest file plain vs. sandboxed. Prints median, p95, mean CPU per run and the ratio to plain.
//   build/bench/sandbox_overhead [RUNS]          (default 200; needs bubblewrap; run as root for cgroups)
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "worker/sandbox/bubblewrap_sandbox.h"
#include "worker/sandbox/cgroup.h"
#include "worker/sandbox/process.h"

using namespace testfleet::worker;
namespace fs = std::filesystem;

namespace {

struct Figures {
  double median_ms, p95_ms, cpu_ms;
};

Figures measure(int runs, const std::function<std::pair<double, double>()>& once) {
  std::vector<double> wall;
  double cpu = 0;
  for (int i = 0; i < runs; ++i) {
    auto [w, c] = once();
    wall.push_back(w);
    cpu += c;
  }
  std::sort(wall.begin(), wall.end());
  return {wall[wall.size() / 2], wall[std::min(wall.size() - 1, wall.size() * 95 / 100)], cpu / runs};
}

std::pair<double, double> runArgv(const std::vector<std::string>& argv) {
  ProcessSpec ps;
  ps.argv = argv;
  ps.env = {"PATH=/usr/bin:/bin"};
  ps.timeout = std::chrono::seconds(30);
  auto t0 = std::chrono::steady_clock::now();
  ProcessOutcome o = runProcess(ps);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (o.exit_code != 0) std::fprintf(stderr, "%s failed: %s\n", argv[0].c_str(), o.stderr_text.c_str());
  return {ms, static_cast<double>(o.cpu_ms)};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  const fs::path root = fs::temp_directory_path() / ("tf-bench-" + std::to_string(::getpid()));
  const fs::path ws = root / "work", control = root / "control", out = root / "out";
  for (const auto& d : {ws, control, out}) fs::create_directories(d);
  fs::permissions(out, fs::perms::all);
  fs::permissions(ws, fs::perms::all);
  std::ofstream(control / "test.sh") << "exec /bin/true\n";
  std::ofstream(ws / "test_trivial.py") << "def test_one():\n    assert True\n";
  const fs::path stage_runner =
      fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "worker" / "testfleet-stage-runner";

  std::string why;
  CgroupDriverPtr cgroups = detectCgroups(CgroupMode::kAuto, why);
  BubblewrapSandbox full({"/usr/bin/bwrap", stage_runner, true}, cgroups.get());
  BubblewrapSandbox no_cgroup({"/usr/bin/bwrap", stage_runner, true}, nullptr);
  BubblewrapSandbox no_seccomp({"/usr/bin/bwrap", stage_runner, false}, nullptr);
  auto sandboxed = [&](BubblewrapSandbox& sb) {
    return [&] {
      SandboxSpec spec;
      spec.workspace = ws;
      spec.control = control;
      spec.output = out;
      spec.limits = {512ull << 20, 256, 1000};
      auto t0 = std::chrono::steady_clock::now();
      SandboxOutcome o = sb.run(spec);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (o.end != SandboxOutcome::End::kExited || o.exit_code != 0) std::fprintf(stderr, "sandbox run failed\n");
      return std::pair<double, double>{ms, static_cast<double>(o.cpu_ms)};
    };
  };
  const std::vector<std::string> bwrap_base = {"/usr/bin/bwrap", "--unshare-all", "--ro-bind", "/usr",      "/usr",
                                               "--symlink",      "usr/lib",       "/lib",      "--symlink", "usr/lib64",
                                               "/lib64",         "--symlink",     "usr/bin",   "/bin",      "--proc",
                                               "/proc",          "--dev",         "/dev",      "--tmpfs",   "/tmp"};
  auto with = [](std::vector<std::string> a, std::initializer_list<std::string> more) {
    a.insert(a.end(), more);
    return a;
  };

  struct Row {
    const char* name;
    std::function<std::pair<double, double>()> once;
  };
  std::vector<Row> rows = {
      {"fork+exec /bin/true (plain)", [] { return runArgv({"/bin/true"}); }},
      {"unshare -n (network ns only)",
       [] {
         return runArgv({"/usr/bin/unshare", "-n", "/bin/true"});
       }},
      {"unshare -Urpnmiuf (all namespaces, no mounts)",
       [] {
         return runArgv({"/usr/bin/unshare", "-Urpnmiuf", "/bin/true"});
       }},
      {"bwrap --unshare-all, /usr ro, /proc, /dev, /tmp", [&] { return runArgv(with(bwrap_base, {"/bin/true"})); }},
      {"bwrap same, --share-net",
       [&] {
         return runArgv(with(bwrap_base, {"--share-net", "/bin/true"}));
       }},
      {"testfleet sandbox, no seccomp, no cgroup", sandboxed(no_seccomp)},
      {"testfleet sandbox, seccomp, no cgroup", sandboxed(no_cgroup)},
      {"testfleet sandbox (seccomp + cgroup), as jobs run", sandboxed(full)},
  };
  std::printf("sandbox start-up cost, %d runs each (%s)\n", runs,
              cgroups ? cgroups->describe().c_str() : ("no cgroups: " + why).c_str());
  std::printf("%-52s %10s %10s %12s %8s\n", "variant", "median ms", "p95 ms", "CPU ms/run", "ratio");
  double plain = 0;
  for (auto& row : rows) {
    Figures f = measure(runs, row.once);
    if (plain == 0) plain = f.median_ms;
    std::printf("%-52s %10.2f %10.2f %12.2f %7.1fx\n", row.name, f.median_ms, f.p95_ms, f.cpu_ms, f.median_ms / plain);
    std::fflush(stdout);
  }

  // A trivial pytest file: plain python3 -m pytest against the same in the full sandbox.
  std::ofstream(control / "test.sh", std::ios::trunc)
      << "exec python3 -m pytest -q -p no:cacheprovider test_trivial.py\n";
  const int py_runs = std::max(20, runs / 10);
  Figures py_plain = measure(py_runs, [&] {
    return runArgv(
        {"/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", (ws / "test_trivial.py").string()});
  });
  Figures py_sandboxed = measure(py_runs, sandboxed(full));
  std::printf("\ntrivial pytest file, %d runs each\n", py_runs);
  std::printf("%-52s %10.2f %10.2f %12.2f %7.1fx\n", "python3 -m pytest (plain)", py_plain.median_ms, py_plain.p95_ms,
              py_plain.cpu_ms, 1.0);
  std::printf("%-52s %10.2f %10.2f %12.2f %7.2fx\n", "python3 -m pytest (testfleet sandbox)", py_sandboxed.median_ms,
              py_sandboxed.p95_ms, py_sandboxed.cpu_ms, py_sandboxed.median_ms / py_plain.median_ms);
  fs::remove_all(root);
  return 0;
}
