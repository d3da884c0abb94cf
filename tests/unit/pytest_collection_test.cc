#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "producer/pytest_collection.h"
#include "temp_dir.h"

using namespace testfleet;
using testfleet::producer::collectPytestFiles;
using testfleet::producer::filesOfCollection;
namespace fs = std::filesystem;
using Files = std::vector<std::string>;

// Outputs captured from pytest 9.2 (Python 3.11) here.
TEST_CASE("pytest --collect-only -q: the files of its node ids, or why it could not collect") {
  // pytest.ini: testpaths = tests src, python_files = check_*.py test_*.py, addopts = --doctest-modules.
  auto ok = filesOfCollection(
      "tests/sub/check_c.py::test_c\ntests/sub/check_c.py::TestK::test_k\ntests/test_a.py::test_a\n"
      "src/pkg/mod.py::pkg.mod.f\n\n4 tests collected in 0.05s\n",
      0);
  CHECK(ok.problem.empty());
  CHECK(ok.files == Files{"tests/sub/check_c.py", "tests/test_a.py", "src/pkg/mod.py"});
  auto none = filesOfCollection("\nno tests collected in 0.01s\n", 5);
  CHECK(none.problem.empty());
  CHECK(none.files.empty());
  auto broken = filesOfCollection(
      "test_a.py::test_a\n\n==================================== ERRORS ====================================\n"
      "__________________________ ERROR collecting test_b.py __________________________\n"
      "test_b.py:1: in <module>\n    import no_such_module_xyz\n"
      "E   ModuleNotFoundError: No module named 'no_such_module_xyz'\n"
      "!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n"
      "1 test collected, 1 error in 0.46s\n",
      2);
  CHECK(broken.problem ==
        "python3 -m pytest --collect-only exited 2: ModuleNotFoundError: No module named 'no_such_module_xyz'");
  CHECK(filesOfCollection("/usr/bin/python3: No module named pytest\n", 1).problem ==
        "python3 -m pytest --collect-only exited 1: pytest is not importable by python3");
  CHECK(filesOfCollection("ERROR: usage: pytest [options]\nsomething odd\n", 4).problem ==
        "python3 -m pytest --collect-only exited 4: something odd");
}

TEST_CASE("collectPytestFiles asks the python3 on the PATH in the folder, honouring the project's pytest.ini") {
  if (std::system("python3 -c 'import pytest' >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: python3 here cannot import pytest");
    return;
  }
  testing::TempDir dir("pytest-collection");
  fs::create_directories(dir.path / "tests");
  fs::create_directories(dir.path / "bench");
  std::ofstream(dir.path / "pytest.ini") << "[pytest]\ntestpaths = tests\npython_files = check_*.py\n";
  std::ofstream(dir.path / "tests" / "check_a.py") << "def test_a():\n    pass\n";
  std::ofstream(dir.path / "tests" / "test_ignored.py") << "def test_i():\n    pass\n";
  std::ofstream(dir.path / "bench" / "check_slow.py") << "def test_s():\n    pass\n";
  auto collected = collectPytestFiles(dir.path, v1::PYTEST);
  CHECK(collected.problem == "");
  CHECK(collected.files == Files{"tests/check_a.py"});
  CHECK_FALSE(fs::exists(dir.path / "tests" / "__pycache__"));  // nothing written into the project
  CHECK_FALSE(collectPytestFiles(dir.path / "no-such-folder", v1::PYTEST).problem.empty());
}
