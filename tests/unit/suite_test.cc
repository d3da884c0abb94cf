#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/environment_hash.h"
#include "suite/planner.h"
#include "suite/suite.h"
#include "tests/unit/temp_dir.h"

using namespace testfleet;
using namespace testfleet::suite;
namespace fs = std::filesystem;

namespace {
std::vector<std::string> problemsOf(const std::string& yaml, const fs::path& base = ".") {
  try {
    parseSuite(yaml, "suite.yaml", base);
  } catch (const SuiteError& e) {
    return e.problems();
  }
  return {};
}
bool mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}
}  // namespace

TEST_CASE("the seed form loads with defaults applied") {
  Suite s = parseSuite(R"(
name: seed
defaults: {timeout: 20s, env: {A: "1"}}
tests:
  - name: one
    framework: pytest
    files: {test_one.py: "def test_x(): pass"}
    env: {B: "2"}
  - name: two
    command: "true"
    timeout: 5
    setup: echo hi
    teardown: echo bye
)",
                       "s.yaml", ".");
  REQUIRE(s.tests.size() == 2);
  CHECK(s.name == "seed");
  CHECK(s.tests[0].framework == v1::PYTEST);
  CHECK(s.tests[0].timeout == std::chrono::seconds(20));
  CHECK(s.tests[0].env.at("A") == "1");
  CHECK(s.tests[0].env.at("B") == "2");
  CHECK(s.tests[1].framework == v1::SHELL);
  CHECK(s.tests[1].timeout == std::chrono::seconds(5));
  CHECK(s.tests[1].setup == "echo hi");
  CHECK(s.tests[1].teardown == "echo bye");
}

TEST_CASE("an unknown key is named with its line") {
  auto p = problemsOf("name: x\ntests:\n  - name: a\n    tmeout: 5\n    command: 'true'\n");
  REQUIRE(p.size() == 1);
  CHECK(mentions(p, "suite.yaml:4:"));
  CHECK(mentions(p, "unknown key 'tmeout'"));
}

TEST_CASE("a mistyped key or framework gets a did-you-mean hint; an unrelated one does not") {
  CHECK(mentions(problemsOf("name: x\ntests:\n  - name: a\n    tmeout: 5\n    command: 'true'\n"),
                 "unknown key 'tmeout' in a test; did you mean 'timeout'?"));
  CHECK(mentions(problemsOf("name: x\ntest:\n  - name: a\n    command: 'true'\n"),
                 "unknown key 'test' in the suite; did you mean 'tests'?"));
  CHECK(mentions(problemsOf("name: x\ndefaults: {framwork: pytest}\ntests:\n  - {name: a, command: 'true'}\n"),
                 "did you mean 'framework'?"));
  CHECK(mentions(problemsOf("name: x\ntests:\n  - name: a\n    framework: pytset\n    command: x\n"),
                 "unknown framework 'pytset'; did you mean 'pytest'?"));
  const auto unrelated = problemsOf("name: x\ntests:\n  - name: a\n    colour: blue\n    command: 'true'\n");
  CHECK(mentions(unrelated, "unknown key 'colour'"));
  CHECK_FALSE(mentions(unrelated, "did you mean"));
}

TEST_CASE("wrong types and values are errors") {
  CHECK(mentions(problemsOf("name: x\ntests: {a: 1}\n"), "'tests' must be a list"));
  CHECK(mentions(problemsOf("name: x\ntests:\n  - name: a\n    command: 'true'\n    timeout: soon\n"),
                 "suite.yaml:5: 'timeout' must be a positive duration"));
  CHECK(mentions(problemsOf("name: x\ntests:\n  - name: a\n    framework: cobol\n    command: x\n"),
                 "unknown framework 'cobol'"));
  CHECK(mentions(problemsOf("name: x\ntests:\n  - name: a\n"), "needs a 'command'"));
  CHECK(mentions(problemsOf("name: x\ntests:\n  - name: a\n    command: x\n    env: {1BAD: v}\n"),
                 "not a valid variable name"));
  CHECK(mentions(problemsOf("name: x\ntests:\n  - name: a\n    command: x\n  - name: a\n    command: y\n"),
                 "used twice"));
  CHECK(mentions(problemsOf("tests: []\n"), "non-empty 'name'"));
  CHECK(mentions(problemsOf("name: [unclosed\n"), "not valid YAML"));
}

TEST_CASE("file paths must stay inside the workspace") {
  auto p = problemsOf("name: x\ntests:\n  - name: a\n    framework: pytest\n    files: {'../evil.py': x}\n");
  CHECK(mentions(p, "must be relative and stay inside the workspace"));
  p = problemsOf("name: x\ntests:\n  - name: a\n    framework: pytest\n    files: {'/etc/passwd': x}\n");
  CHECK(mentions(p, "must be relative"));
}

TEST_CASE("an oversized inline workspace is refused") {
  SuiteLimits limits;
  limits.max_workspace_bytes = 100;
  std::string big(200, 'x');
  CHECK_THROWS_AS(parseSuite("name: x\ntests:\n  - name: a\n    framework: pytest\n    files: {t.py: " + big + "}\n",
                             "s.yaml", ".", limits),
                  SuiteError);
}

TEST_CASE("the directory form splits one job per matching file and carries the whole folder") {
  fs::path dir = fs::temp_directory_path() / ("tf-suite-" + std::to_string(::getpid()));
  fs::create_directories(dir / "tests" / "sub");
  std::ofstream(dir / "tests" / "test_a.py") << "def test_a(): pass\n";
  std::ofstream(dir / "tests" / "sub" / "test_b.py") << "def test_b(): pass\n";
  std::ofstream(dir / "tests" / "helper.py") << "X = 1\n";
  fs::create_directories(dir / "tests" / "__pycache__");
  std::ofstream(dir / "tests" / "__pycache__" / "junk.pyc") << "junk";
  std::ofstream(dir / "suite.yaml") << "name: d\ndirectory:\n  root: tests\n  framework: pytest\n";
  Suite s = loadSuite(dir / "suite.yaml");
  REQUIRE(s.tests.size() == 2);
  CHECK(s.tests[0].name == "sub/test_b.py");
  CHECK(s.tests[1].name == "test_a.py");
  CHECK(s.tests[1].tests == std::vector<std::string>{"test_a.py"});
  // The folder travels as one bundle both jobs name: helper and both tests, no cache.
  REQUIRE(s.bundles.size() == 1);
  CHECK(s.bundles.begin()->second.files == 3);
  CHECK(s.tests[0].bundle_sha256 == s.bundles.begin()->first);
  CHECK(s.tests[1].bundle_sha256 == s.bundles.begin()->first);
  CHECK(s.tests[1].files.empty());
  // Packing is deterministic: the same folder gives the same hash (and so a worker's cache hit) again.
  sleep(1);  // a packing time stored anywhere would show as a new hash
  CHECK(loadSuite(dir / "suite.yaml").bundles.begin()->first == s.bundles.begin()->first);
  fs::remove_all(dir);
}

TEST_CASE("the directory form runs no file its bundle leaves out, and no test of node_modules or a dot-folder") {
  fs::path dir = fs::temp_directory_path() / ("tf-suite-exclude-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"tests/slow", "tests/node_modules/dep", "tests/.venv/lib", "tests/data"}) {
    fs::create_directories(dir / sub);
  }
  for (const char* file : {"tests/test_a.py", "tests/slow/test_big.py", "tests/node_modules/dep/test_dep.py",
                           "tests/.venv/lib/test_venv.py", "tests/data/test_fixture.py", "tests/test_b.py"}) {
    std::ofstream(dir / file) << "def test(): pass\n";
  }
  std::ofstream(dir / "tests" / ".testfleetignore") << "slow/\n";
  std::ofstream(dir / "suite.yaml") << "name: d\ndirectory:\n  root: tests\n  framework: pytest\n"
                                       "  exclude: [test_b.py, \"data/\"]\n";
  Suite s = loadSuite(dir / "suite.yaml");
  REQUIRE(s.tests.size() == 1);
  CHECK(s.tests[0].name == "test_a.py");
  REQUIRE(s.bundles.size() == 1);
  // The dependency and the dot-folder travel (a test may import them); what was excluded does not.
  const auto& paths = s.bundles.begin()->second.file_paths;
  CHECK(std::count(paths.begin(), paths.end(), "node_modules/dep/test_dep.py") == 1);
  CHECK(std::count(paths.begin(), paths.end(), ".venv/lib/test_venv.py") == 1);
  CHECK(std::count(paths.begin(), paths.end(), "test_b.py") == 0);
  CHECK(std::count(paths.begin(), paths.end(), "slow/test_big.py") == 0);

  std::ofstream(dir / "bad.yaml") << "name: d\ndirectory:\n  root: tests\n  framework: pytest\n"
                                     "  exclude: [../x]\n";
  CHECK_THROWS_WITH_AS(loadSuite(dir / "bad.yaml"), doctest::Contains("exclude: pattern '../x' has a '..' part"),
                       SuiteError);
  fs::remove_all(dir);
}

TEST_CASE("'exclude' belongs to an entry with a 'root' folder") {
  CHECK(mentions(problemsOf("name: s\ntests:\n  - name: a\n    command: 'true'\n    exclude: [x]\n"),
                 "suite.yaml:5: 'exclude' names what to leave out of a 'root' folder"));
}

TEST_CASE("the directory form's pattern is a file name, or with '/' a path glob under root where ** is any folders") {
  fs::path dir = fs::temp_directory_path() / ("tf-suite-glob-" + std::to_string(::getpid()));
  fs::create_directories(dir / "tests" / "sub" / "deep");
  fs::create_directories(dir / "bench");
  for (const char* f : {"tests/test_a.py", "tests/sub/test_b.py", "tests/sub/deep/test_c.py", "tests/helper.py",
                        "bench/test_slow.py", "test_top.py"}) {
    std::ofstream(dir / f) << "def test_x(): pass\n";
  }
  auto names = [&](const std::string& pattern) {
    std::vector<std::string> out;
    Suite s = parseSuite("name: d\ndirectory:\n  root: .\n  framework: pytest\n  pattern: \"" + pattern + "\"\n",
                         "suite.yaml", dir);
    for (const auto& t : s.tests) out.push_back(t.name);
    return out;
  };
  using Names = std::vector<std::string>;
  // A name alone matches in every folder, as before.
  CHECK(names("test_*.py") == Names{"bench/test_slow.py", "test_top.py", "tests/sub/deep/test_c.py",
                                    "tests/sub/test_b.py", "tests/test_a.py"});
  // With '/': the path under root; '*' stays within one name; '**' is none or more folders.
  CHECK(names("tests/test_*.py") == Names{"tests/test_a.py"});
  CHECK(names("./tests/test_*.py") == Names{"tests/test_a.py"});
  CHECK(names("tests/**/test_*.py") == Names{"tests/sub/deep/test_c.py", "tests/sub/test_b.py", "tests/test_a.py"});
  CHECK(names("tests/*/test_*.py") == Names{"tests/sub/test_b.py"});
  CHECK(names("tests/**/deep/*.py") == Names{"tests/sub/deep/test_c.py"});
  CHECK(names("**/test_?.py") == Names{"tests/sub/deep/test_c.py", "tests/sub/test_b.py", "tests/test_a.py"});
  CHECK(names("tests/**") ==
        Names{"tests/helper.py", "tests/sub/deep/test_c.py", "tests/sub/test_b.py", "tests/test_a.py"});
  // Nothing matched, or a pattern that leaves root: the problem says what a pattern is.
  auto problems = [&](const std::string& pattern) {
    try {
      parseSuite("name: d\ndirectory:\n  root: .\n  framework: pytest\n  pattern: \"" + pattern + "\"\n", "suite.yaml",
                 dir);
    } catch (const SuiteError& e) {
      return e.problems();
    }
    return std::vector<std::string>{};
  };
  CHECK(mentions(problems("test/*.py"), "'**' stands for any number of folders"));
  CHECK(mentions(problems("nothing_*.py"), "one with '/' the path under 'root', e.g. tests/**/test_*.py"));
  CHECK(mentions(problems("../tests/*.py"), "suite.yaml:5: 'pattern' is relative to 'root' and stays under it"));
  CHECK(mentions(problems("/tests/*.py"), "'pattern' is relative to 'root'"));
  fs::remove_all(dir);
}

TEST_CASE("a pytest directory asks the framework which files it runs, by default, when submit gives a collector") {
  fs::path dir = fs::temp_directory_path() / ("tf-suite-collect-" + std::to_string(::getpid()));
  fs::create_directories(dir / "tests");
  fs::create_directories(dir / "bench");
  for (const char* f : {"tests/test_a.py", "tests/check_b.py", "bench/test_slow.py"})
    std::ofstream(dir / f) << "def test_x(): pass\n";
  int asked = 0;
  CollectedFiles answer{.files = {"tests/check_b.py", "tests/test_a.py", ".hidden/test_h.py"}, .problem = ""};
  FileCollector collect = [&](const fs::path& root, v1::Framework framework) {
    ++asked;
    CHECK(root == dir / ".");
    CHECK(framework == v1::PYTEST);
    return answer;
  };
  auto load = [&](const std::string& extra) {
    return parseSuite("name: d\ndirectory:\n  root: .\n  framework: pytest\n" + extra, "suite.yaml", dir, {}, collect);
  };
  auto names = [](const Suite& s) {
    std::vector<std::string> out;
    for (const auto& t : s.tests) out.push_back(t.name);
    return out;
  };
  using Names = std::vector<std::string>;
  // pytest's choice (its testpaths and python_files): check_b.py in, bench out; a file the bundle lacks is left out.
  Suite s = load("");
  CHECK(asked == 1);
  CHECK(names(s) == Names{"tests/check_b.py", "tests/test_a.py"});
  REQUIRE(s.notes.size() == 2);
  CHECK(s.notes[0].find("pytest's collection chose 2 files") != std::string::npos);
  CHECK(s.notes[1].find("not in the bundle, so left out: .hidden/test_h.py") != std::string::npos);
  // It could not be asked: today's pattern, with a note saying why.
  answer = {.files = {}, .problem = "pytest is not importable by python3"};
  s = load("");
  CHECK(names(s) == Names{"bench/test_slow.py", "tests/test_a.py"});
  REQUIRE(s.notes.size() == 1);
  CHECK(s.notes[0].find("(pytest is not importable by python3); the pattern chose them") != std::string::npos);
  // Turned off, or a pattern given, or no collector (the worker's --run-suite): never asked.
  asked = 0;
  CHECK(names(load("  collect: pattern\n")) == Names{"bench/test_slow.py", "tests/test_a.py"});
  CHECK(names(load("  pattern: \"check_*.py\"\n")) == Names{"tests/check_b.py"});
  CHECK(asked == 0);
  CHECK(parseSuite("name: d\ndirectory:\n  root: .\n  framework: pytest\n", "suite.yaml", dir).tests.size() == 2);
  // Asked and nothing found; a bad value; framework collection where it cannot be.
  answer = {.files = {}, .problem = ""};
  CHECK_THROWS_WITH_AS(load(""), doctest::Contains("pytest's collection found no test files"), SuiteError);
  CHECK_THROWS_WITH_AS(load("  collect: maybe\n"), doctest::Contains("'collect' must be 'framework'"), SuiteError);
  CHECK_THROWS_WITH_AS(load("  collect: framework\n  pattern: \"*.py\"\n"),
                       doctest::Contains("needs framework pytest and no 'pattern'"), SuiteError);
  fs::remove_all(dir);
}

TEST_CASE("a suite file that is not UTF-8 is refused with the line of the first bad byte") {
  const auto problems = problemsOf("name: s\ntests:\n  - name: caf\xe9\n    command: true\n");
  CHECK(mentions(problems, "suite.yaml:3: not UTF-8 text"));
  CHECK(problemsOf("name: s\ntests:\n  - name: caf\xc3\xa9\n    command: 'true'\n").empty());
}

TEST_CASE("a suite declares an environment; its files travel in every job with the hash") {
  testing::TempDir dir("env-suite");
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "requirements.txt") << "attrs==23.2.0\n";
  std::ofstream(dir.path / "pyproject.toml") << "[project]\nname = 'x'\n";
  Suite s = parseSuite(R"(
name: with-env
defaults:
  environment: {python: {requirements: requirements.txt}}
tests:
  - name: one
    framework: pytest
    files: {test_one.py: "def test_x(): pass"}
  - name: two
    framework: pytest
    files: {test_two.py: "def test_y(): pass"}
    environment: {python: {requirements: [requirements.txt], pyproject: pyproject.toml, extras: [test]}}
)",
                       "suite.yaml", dir.path);
  REQUIRE(s.tests.size() == 2);
  REQUIRE(s.tests[0].environment);
  const v1::Environment& one = *s.tests[0].environment;
  REQUIRE(one.files_size() == 1);
  CHECK(one.files(0).path() == "requirements.txt");
  CHECK(one.files(0).content() == "attrs==23.2.0\n");
  CHECK(one.sha256() == environmentSha256(one));
  REQUIRE(s.tests[1].environment);
  CHECK(s.tests[1].environment->files_size() == 2);
  CHECK(s.tests[1].environment->pyproject() == "pyproject.toml");
  CHECK(s.tests[1].environment->extras(0) == "test");
  CHECK(s.tests[1].environment->sha256() != one.sha256());

  const Plan plan = planRun(s, "run-1", 1);
  REQUIRE(plan.jobs.size() == 2);
  CHECK(plan.jobs[0].environment().sha256() == one.sha256());
  CHECK(plan.jobs[0].environment().files(0).content() == "attrs==23.2.0\n");

  Suite plain = parseSuite("name: p\ntests:\n  - {name: a, command: 'true'}\n", "suite.yaml", dir.path);
  CHECK_FALSE(plain.tests[0].environment);
  CHECK_FALSE(planRun(plain, "run-2", 1).jobs[0].has_environment());
}

TEST_CASE("a wrong environment declaration is an error naming what to fix") {
  testing::TempDir dir("env-bad");
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "requirements.txt") << "attrs\n";
  const auto suiteWith = [](const std::string& env) {
    return "name: s\ntests:\n  - name: a\n    command: 'true'\n    environment: " + env + "\n";
  };
  CHECK(
      mentions(problemsOf(suiteWith("{python: {requirements: missing.txt}}"), dir.path), "missing.txt cannot be read"));
  CHECK(mentions(problemsOf(suiteWith("{python: {requirements: ../etc/passwd}}"), dir.path), "without '..'"));
  CHECK(mentions(problemsOf(suiteWith("{node: {package: package.json}}"), dir.path), "not supported yet"));
  CHECK(mentions(problemsOf(suiteWith("{python: {}}"), dir.path), "'requirements' and/or 'pyproject'"));
  CHECK(mentions(problemsOf(suiteWith("{python: {requirements: requirements.txt, extras: [test]}}"), dir.path),
                 "name it too"));
  CHECK(mentions(problemsOf(suiteWith("{python: {requirements: requirements.txt, pip: x}}"), dir.path),
                 "unknown key 'pip'"));
  std::ofstream(dir.path / "huge.txt") << std::string(300 << 10, '#');
  CHECK(mentions(problemsOf(suiteWith("{python: {requirements: huge.txt}}"), dir.path), "more than the limit"));
  CHECK(problemsOf(suiteWith("{python: {requirements: requirements.txt}}"), dir.path).empty());
}
