#include <doctest/doctest.h>

#include <fstream>

#include "tests/unit/temp_dir.h"
#include "worker/sandbox/zygote_sandbox.h"

using namespace testfleet::worker;
namespace fs = std::filesystem;

TEST_CASE("the zygote takes plain pytest jobs only: no network, environment, setup, teardown or artifacts") {
  testfleet::testing::TempDir dir("zygote-takes");
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "test.sh") << "python3 -m pytest -q\n";
  SandboxSpec spec;
  spec.control = dir.path;
  spec.framework = "pytest";
  CHECK(ZygoteSandbox::takes(spec));

  SandboxSpec shell = spec;
  shell.framework = "shell";
  CHECK_FALSE(ZygoteSandbox::takes(shell));
  SandboxSpec listing = spec;
  listing.framework = "";  // the job runner leaves it empty for listing jobs
  CHECK_FALSE(ZygoteSandbox::takes(listing));
  SandboxSpec network = spec;
  network.network = true;
  CHECK_FALSE(ZygoteSandbox::takes(network));
  SandboxSpec prepared = spec;  // a declared environment is mounted at /env, which the zygote's jobs do not get
  prepared.environment = dir.path;
  CHECK_FALSE(ZygoteSandbox::takes(prepared));
  SandboxSpec artifacts = spec;
  artifacts.artifact_bytes = 1024;
  CHECK_FALSE(ZygoteSandbox::takes(artifacts));
  for (const char* script : {"setup.sh", "teardown.sh", "artifacts.txt"}) {
    std::ofstream(dir.path / script) << "true\n";
    CHECK_FALSE(ZygoteSandbox::takes(spec));
    fs::remove(dir.path / script);
  }
  CHECK(ZygoteSandbox::takes(spec));
}
