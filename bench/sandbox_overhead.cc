// Start-up cost of the sandbox: plain fork+exec of /bin/true against the same through each layer testfleet adds,
// the cold sandbox against the zygote-forked one (--zygotes), and a trivial pytest file plain, cold-sandboxed and
// zygote-forked. Every row is measured ROUNDS times, the rounds interleaved (round 1 of every row, then round 2, …),
// so the rows share the machine's moments; prints the median of the rounds' medians (and each round's), p95, mean
// CPU per run and the ratio to plain.
//   build/bench/sandbox_overhead [RUNS [ROUNDS]]   (default 200 and 3; needs bubblewrap; run as root for cgroups)
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
#include "worker/sandbox/zygote_sandbox.h"

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

// A row measured in several rounds: the median of their medians and of their p95s, the mean CPU.
struct Rounds {
  std::vector<Figures> each;
  Figures summary() const {
    auto median = [&](double Figures::*field) {
      std::vector<double> v;
      for (const auto& f : each) v.push_back(f.*field);
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    double cpu = 0;
    for (const auto& f : each) cpu += f.cpu_ms;
    return {median(&Figures::median_ms), median(&Figures::p95_ms), cpu / static_cast<double>(each.size())};
  }
  std::string medians() const {
    std::string out;
    char buf[32];
    for (const auto& f : each) {
      std::snprintf(buf, sizeof buf, "%s%.2f", out.empty() ? "" : " / ", f.median_ms);
      out += buf;
    }
    return out;
  }
};

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
  const int rounds = std::max(1, argc > 2 ? std::atoi(argv[2]) : 3);
  const fs::path root = fs::temp_directory_path() / ("tf-bench-" + std::to_string(::getpid()));
  const fs::path ws = root / "work", control = root / "control", out = root / "out";
  for (const auto& d : {ws, control, out}) fs::create_directories(d);
  fs::permissions(out, fs::perms::all);
  fs::permissions(ws, fs::perms::all);
  std::ofstream(control / "test.sh") << "exec /bin/true\n";
  std::ofstream(ws / "test_trivial.py") << "def test_one():\n    assert True\n";
  const fs::path worker_dir = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "worker";
  const fs::path stage_runner = worker_dir / "testfleet-stage-runner";

  std::string why;
  CgroupDriverPtr cgroups = detectCgroups(CgroupMode::kAuto, why);
  BubblewrapSandbox full({"/usr/bin/bwrap", stage_runner, true}, cgroups.get());
  BubblewrapSandbox no_cgroup({"/usr/bin/bwrap", stage_runner, true}, nullptr);
  BubblewrapSandbox no_seccomp({"/usr/bin/bwrap", stage_runner, false}, nullptr);
  ZygoteSettings zs{worker_dir / "testfleet-zygote.py", worker_dir / "testfleet-zygote-client", std::nullopt};
  if (::geteuid() == 0) zs.zygote_as = Credentials{2000000001, 2000000001};  // one past the cold sandbox's uid
  ZygoteSandbox zygote({"/usr/bin/bwrap", stage_runner, true}, zs, full, cgroups.get());
  if (!zygote.problem().empty()) std::fprintf(stderr, "the zygote rows run cold: %s\n", zygote.problem().c_str());
  auto sandboxed = [&](Sandbox& sb) {
    return [&] {
      SandboxSpec spec;
      spec.framework = "pytest";  // only the zygote looks at it: it takes the job
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
      {"zygote-forked sandbox (seccomp + cgroup), sh -c", sandboxed(zygote)},
  };
  std::printf("sandbox start-up cost, %d runs each, %d rounds (%s)\n", runs, rounds,
              cgroups ? cgroups->describe().c_str() : ("no cgroups: " + why).c_str());
  std::vector<Rounds> measured(rows.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < rows.size(); ++i) measured[i].each.push_back(measure(runs, rows[i].once));
  }
  std::printf("%-52s %10s %10s %12s %8s  %s\n", "variant", "median ms", "p95 ms", "CPU ms/run", "ratio",
              "each round's median");
  const double plain = measured[0].summary().median_ms;
  for (size_t i = 0; i < rows.size(); ++i) {
    Figures f = measured[i].summary();
    std::printf("%-52s %10.2f %10.2f %12.2f %7.1fx  %s\n", rows[i].name, f.median_ms, f.p95_ms, f.cpu_ms,
                f.median_ms / plain, measured[i].medians().c_str());
  }

  // A trivial pytest file: plain python3 -m pytest against the same in the cold sandbox and forked from the zygote
  // (which runs it in-process: the command is a plain pytest call).
  std::ofstream(control / "test.sh", std::ios::trunc) << "python3 -m pytest -q -p no:cacheprovider test_trivial.py\n";
  const int py_runs = std::max(20, runs / 10);
  std::vector<Row> py_rows = {
      {"python3 -m pytest (plain)",
       [&] {
         return runArgv(
             {"/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", (ws / "test_trivial.py").string()});
       }},
      {"python3 -m pytest (cold testfleet sandbox)", sandboxed(full)},
      {"pytest.main (zygote-forked testfleet sandbox)", sandboxed(zygote)},
  };
  std::vector<Rounds> py_measured(py_rows.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < py_rows.size(); ++i) py_measured[i].each.push_back(measure(py_runs, py_rows[i].once));
  }
  std::printf("\ntrivial pytest file, %d runs each, %d rounds\n", py_runs, rounds);
  const double py_plain = py_measured[0].summary().median_ms;
  for (size_t i = 0; i < py_rows.size(); ++i) {
    Figures f = py_measured[i].summary();
    std::printf("%-52s %10.2f %10.2f %12.2f %7.2fx  %s\n", py_rows[i].name, f.median_ms, f.p95_ms, f.cpu_ms,
                f.median_ms / py_plain, py_measured[i].medians().c_str());
  }
  fs::remove_all(root);
  return 0;
}
