// Declared environments: their content hash, the python preparation's text and the worker's cache of prepared trees
// (prepared once per key, never half-written). The suite's `environment:` is tested in suite_test.cc.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "common/environment_hash.h"
#include "tests/unit/temp_dir.h"
#include "worker/environment_cache.h"
#include "worker/environment_preparer.h"
#include "worker/python_environment.h"

using namespace testfleet;
namespace fs = std::filesystem;

namespace {

void writeFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

v1::Environment requirementsEnvironment(const std::string& content) {
  v1::Environment env;
  v1::WorkspaceFile* f = env.add_files();
  f->set_path("requirements.txt");
  f->set_content(content);
  env.add_requirements("requirements.txt");
  return env;
}

// Gives write permission back under dir, so the temp folder can go when the test ran as an ordinary user.
void thaw(const fs::path& dir) {
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_symlink()) fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
  }
}

}  // namespace

TEST_CASE("an environment's hash follows its declaration and its files' bytes, not their order") {
  const v1::Environment a = requirementsEnvironment("attrs==23.2.0\n");
  CHECK(environmentSha256(a) == environmentSha256(requirementsEnvironment("attrs==23.2.0\n")));
  CHECK(environmentSha256(a).size() == 64);
  CHECK(environmentSha256(a) != environmentSha256(requirementsEnvironment("attrs==23.1.0\n")));

  v1::Environment extras = a, reordered = a;
  extras.add_extras("test");
  CHECK(environmentSha256(extras) != environmentSha256(a));
  v1::WorkspaceFile* more = reordered.add_files();
  more->set_path("dev.txt");
  more->set_content("iniconfig==2.0.0\n");
  reordered.add_requirements("dev.txt");
  v1::Environment swapped;
  *swapped.add_files() = reordered.files(1);
  *swapped.add_files() = reordered.files(0);
  swapped.add_requirements("dev.txt");
  swapped.add_requirements("requirements.txt");
  CHECK(environmentSha256(swapped) == environmentSha256(reordered));

  v1::Environment renamed = a;
  renamed.mutable_files(0)->set_path("reqs.txt");
  renamed.set_requirements(0, "reqs.txt");
  CHECK(environmentSha256(renamed) != environmentSha256(a));

  CHECK(environmentKey(a, "/usr/bin/python3 3.11.2") == environmentKey(a, "/usr/bin/python3 3.11.2"));
  CHECK(environmentKey(a, "/usr/bin/python3 3.11.2") != environmentKey(a, "/usr/bin/python3 3.12.1"));
  CHECK(environmentKey(a, "/usr/bin/python3 3.11.2") != environmentSha256(a));
}

TEST_CASE("the python preparation installs the declaration into the target and lists what it installed") {
  v1::Environment env = requirementsEnvironment("attrs\n");
  const std::string script = worker::pythonPreparationScript(env, "/env");
  CHECK(script.find("python3 -m pip install") != std::string::npos);
  CHECK(script.find("--target '/env/python' -r 'requirements.txt'") != std::string::npos);
  CHECK(script.find("--format=freeze --path '/env/python' > '/env/packages.txt'") != std::string::npos);
  CHECK(script.find("tomllib") == std::string::npos);

  env.set_pyproject("pyproject.toml");
  env.add_extras("test");
  const std::string with_project = worker::pythonPreparationScript(env, "/env");
  CHECK(with_project.find("tf_pyproject 'pyproject.toml' 'test'") != std::string::npos);
  CHECK(with_project.find("-r /tmp/tf-pyproject-requirements.txt") != std::string::npos);

  CHECK(worker::pythonPreparationVariables({}).count("PIP_INDEX_URL") == 0);
  const auto offline = worker::pythonPreparationVariables({"", "/cache/wheels", true});
  CHECK(offline.at("PIP_FIND_LINKS") == "/cache/wheels");
  CHECK(offline.at("PIP_NO_INDEX") == "1");
  CHECK(worker::pythonPreparationVariables({"https://mirror/simple", "", false}).at("PIP_INDEX_URL") ==
        "https://mirror/simple");
}

TEST_CASE("a job in an environment imports its packages, and its src folder first in a src layout") {
  auto vars = worker::pythonJobVariables("/env", "/work", false, {});
  CHECK(vars.at("PYTHONPATH") == "/env/python");
  CHECK(vars.at("PATH") == "/env/python/bin:/usr/local/bin:/usr/bin:/bin");
  CHECK(vars.at("TESTFLEET_ENV") == "/env");
  CHECK(worker::pythonJobVariables("/env", "/work", true, {}).at("PYTHONPATH") == "/work/src:/env/python");
  CHECK(worker::pythonJobVariables("/env", "/work", true, {{"PYTHONPATH", "lib"}}).at("PYTHONPATH") ==
        "lib:/work/src:/env/python");
}

TEST_CASE("packages.txt is read strictly: name==version lines, sorted, bounded") {
  CHECK(worker::parsePackages("iniconfig==2.0.0\nattrs==23.2.0\r\n\nnot a package\n$(rm -rf)==1\n") ==
        std::vector<std::string>{"attrs==23.2.0", "iniconfig==2.0.0"});
  CHECK(worker::parsePackages("a==1\nb==2\nc==3\n", 2).size() == 2);
}

TEST_CASE("packages.txt that hostile code replaced by a link or a FIFO is not followed, and does not block") {
  testing::TempDir dir("env-packages");
  fs::create_directories(dir.path);
  writeFile(dir.path / "host-secret", "token==abc\n");
  writeFile(dir.path / "packages.txt", "attrs==23.2.0\n");
  CHECK(worker::readPackageList(dir.path / "packages.txt") == std::vector<std::string>{"attrs==23.2.0"});
  fs::create_symlink(dir.path / "host-secret", dir.path / "linked.txt");
  CHECK(worker::readPackageList(dir.path / "linked.txt").empty());
  REQUIRE(::mkfifo((dir.path / "fifo.txt").c_str(), 0644) == 0);
  CHECK(worker::readPackageList(dir.path / "fifo.txt").empty());  // returns at once: no writer is waited for
  CHECK(worker::readPackageList(dir.path / "missing.txt").empty());
}

TEST_CASE("the environment cache prepares a key once, even for slots asking at the same time") {
  testing::TempDir dir("env-cache");
  worker::EnvironmentCache cache(dir.path);
  std::atomic<int> preparations{0};
  auto prepare = [&](const fs::path& temp) {
    ++preparations;
    writeFile(temp / "python" / "attrs" / "__init__.py", "");
    writeFile(temp / "python" / "tool", "#!/bin/sh\n");
    fs::permissions(temp / "python" / "tool", fs::perms::set_uid | fs::perms::set_gid | fs::perms::owner_all);
    std::this_thread::yield();
    return std::string();
  };
  std::vector<worker::EnvironmentEntry> entries(4);
  std::vector<std::thread> slots;
  for (auto& e : entries) slots.emplace_back([&] { e = cache.get("k1", prepare); });
  for (auto& t : slots) t.join();
  CHECK(preparations == 1);
  int prepared = 0;
  for (const auto& e : entries) {
    CHECK(e.error.empty());
    CHECK(e.dir == dir.path / "k1");
    prepared += e.prepared ? 1 : 0;
  }
  CHECK(prepared == 1);
  CHECK(fs::exists(dir.path / "k1" / "python" / "attrs" / "__init__.py"));
  const auto perms = fs::status(dir.path / "k1" / "python").permissions();
  CHECK((perms & (fs::perms::owner_write | fs::perms::others_write)) == fs::perms::none);
  const auto tool = fs::status(dir.path / "k1" / "python" / "tool").permissions();  // was made set-uid
  CHECK((tool & (fs::perms::set_uid | fs::perms::set_gid | fs::perms::owner_write)) == fs::perms::none);

  const worker::EnvironmentEntry again = cache.get("k1", prepare);
  CHECK(preparations == 1);
  CHECK_FALSE(again.prepared);
  thaw(dir.path);
}

TEST_CASE("a failed preparation leaves nothing under its key, and the next asker prepares again") {
  testing::TempDir dir("env-fail");
  worker::EnvironmentCache cache(dir.path);
  const worker::EnvironmentEntry failed = cache.get("k2", [](const fs::path& temp) {
    writeFile(temp / "python" / "half.py", "");
    return std::string("pip: no matching distribution");
  });
  CHECK(failed.error == "pip: no matching distribution");
  CHECK(failed.dir.empty());
  CHECK_FALSE(fs::exists(dir.path / "k2"));
  for (const auto& e : fs::directory_iterator(dir.path))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  const worker::EnvironmentEntry second = cache.get("k2", [](const fs::path&) { return std::string(); });
  CHECK(second.prepared);
  CHECK(second.error.empty());
  thaw(dir.path);
}
