#include "suite/suite.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "common/duration.h"
#include "common/environment_hash.h"
#include "common/frameworks/framework.h"
#include "common/path_patterns.h"
#include "common/text.h"
#include "common/workspace_paths.h"

namespace testfleet::suite {
namespace fs = std::filesystem;

SuiteError::SuiteError(std::vector<std::string> problems)
    : std::runtime_error([&] {
        std::string all;
        for (const auto& p : problems) all += p + "\n";
        return all;
      }()),
      problems_(std::move(problems)) {}

namespace {

// Collects problems with their location while walking the YAML tree.
class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  void fail(const YAML::Node& at, const std::string& message) {
    int line = at.IsDefined() ? at.Mark().line + 1 : 0;
    problems_.push_back(file_ + ":" + std::to_string(line) + ": " + message);
  }
  void failAt(int line, const std::string& message) {
    problems_.push_back(file_ + ":" + std::to_string(line) + ": " + message);
  }
  bool ok() const { return problems_.empty(); }
  std::vector<std::string> take() { return std::move(problems_); }

  // Reports keys of `map` outside `allowed`.
  void onlyKeys(const YAML::Node& map, const std::set<std::string>& allowed, const std::string& where) {
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        const std::string meant = closestWord(key, {allowed.begin(), allowed.end()});
        fail(kv.first, "unknown key '" + key + "' in " + where +
                           (meant.empty() ? "" : "; did you mean '" + meant + "'?") + " (allowed: " + list + ")");
      }
    }
  }

  std::optional<std::string> string(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) {
      fail(n, "'" + key + "' must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<uint32_t> wholeNumber(const YAML::Node& n, const std::string& key, int lo, int hi) {
    int v = 0;
    if (n.IsScalar() && YAML::convert<int>::decode(n, v) && v >= lo && v <= hi) return static_cast<uint32_t>(v);
    fail(n, "'" + key + "' must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    return std::nullopt;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& key) {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      fail(n, "'" + key + "' must be true or false");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::chrono::milliseconds> duration(const YAML::Node& n, const std::string& key) {
    if (n.IsScalar()) {
      if (auto d = parseDuration(n.Scalar()); d && d->count() > 0) return d;
    }
    fail(n, "'" + key + "' must be a positive duration such as 30, 90s, 500ms or 5m");
    return std::nullopt;
  }

  std::optional<std::map<std::string, std::string>> stringMap(const YAML::Node& n, const std::string& key) {
    if (!n.IsMap()) {
      fail(n, "'" + key + "' must be a mapping of names to strings");
      return std::nullopt;
    }
    std::map<std::string, std::string> out;
    for (const auto& kv : n) {
      if (!kv.second.IsScalar()) {
        fail(kv.second, "'" + key + "." + kv.first.Scalar() + "' must be a string");
        continue;
      }
      out[kv.first.Scalar()] = kv.second.Scalar();
    }
    return out;
  }

  std::optional<std::vector<std::string>> stringList(const YAML::Node& n, const std::string& key) {
    if (!n.IsSequence()) {
      fail(n, "'" + key + "' must be a list of strings");
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        fail(item, "'" + key + "' must contain only strings");
        continue;
      }
      out.push_back(item.Scalar());
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<std::string> problems_;
};

bool validEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Keys that a test entry and `defaults` share, applied onto `spec`.
const std::set<std::string> kCommonKeys = {"framework", "timeout", "env",    "setup",     "teardown",   "memory",
                                           "max_pids",  "network", "reruns", "artifacts", "environment"};

// Reads a file an environment names (relative to the suite's folder) into it; false after saying what is wrong.
bool addEnvironmentFile(Checker& check, const YAML::Node& at, const fs::path& base_dir, const std::string& path,
                        const SuiteLimits& limits, v1::Environment& env) {
  if (!isSafeRelativePath(path)) {
    check.fail(at, "environment file '" + path + "' must be relative to the suite's folder, without '..'");
    return false;
  }
  for (const auto& f : env.files()) {
    if (f.path() == path) return true;
  }
  const fs::path file = base_dir / path;
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || !fs::is_regular_file(file)) {
    check.fail(at, "environment file " + file.string() + " cannot be read" + (ec ? ": " + ec.message() : ""));
    return false;
  }
  if (size > limits.max_environment_file_bytes) {
    check.fail(at, "environment file " + file.string() + " has " + std::to_string(size) +
                       " bytes, more than the limit of " + std::to_string(limits.max_environment_file_bytes));
    return false;
  }
  std::ifstream in(file, std::ios::binary);
  v1::WorkspaceFile* f = env.add_files();
  f->set_path(path);
  f->set_content(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  return true;
}

// environment: {python: {requirements: FILE or [FILES], pyproject: FILE, extras: [NAMES]}} — what the tests need
// installed, prepared once per content hash by the workers.
void parseEnvironment(Checker& check, const YAML::Node& node, const fs::path& base_dir, const SuiteLimits& limits,
                      TestSpec& spec) {
  if (!node.IsMap() || !node["python"]) {
    check.fail(node, "'environment' must be a mapping with 'python' (node and go environments are not supported yet)");
    return;
  }
  check.onlyKeys(node, {"python"}, "'environment'");
  const YAML::Node python = node["python"];
  if (!python.IsMap() || !(python["requirements"] || python["pyproject"])) {
    check.fail(python, "'environment.python' must be a mapping with 'requirements' and/or 'pyproject'");
    return;
  }
  check.onlyKeys(python, {"requirements", "pyproject", "extras"}, "'environment.python'");
  v1::Environment env;
  bool ok = true;
  if (auto n = python["requirements"]) {
    std::optional<std::vector<std::string>> files =
        n.IsScalar() ? std::optional<std::vector<std::string>>({n.Scalar()}) : check.stringList(n, "requirements");
    ok = files.has_value();
    for (const auto& f : files.value_or(std::vector<std::string>{})) {
      ok &= addEnvironmentFile(check, n, base_dir, f, limits, env);
      env.add_requirements(f);
    }
  }
  if (auto n = python["pyproject"]) {
    auto f = check.string(n, "pyproject");
    ok &= f && addEnvironmentFile(check, n, base_dir, *f, limits, env);
    if (f) env.set_pyproject(*f);
  }
  if (auto n = python["extras"]) {
    auto extras = check.stringList(n, "extras");
    ok &= extras.has_value();
    for (const auto& e : extras.value_or(std::vector<std::string>{})) {
      const bool name = !e.empty() && e.size() <= 100 && std::all_of(e.begin(), e.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
      if (!name) check.fail(n, "extra '" + e + "' is not a valid name (letters, digits, '-', '_', '.')");
      ok &= name;
      env.add_extras(e);
    }
    if (!python["pyproject"]) check.fail(n, "'extras' are optional dependencies of a 'pyproject'; name it too");
  }
  if (!ok) return;
  env.set_sha256(environmentSha256(env));
  spec.environment = std::move(env);
}

void applyCommon(Checker& check, const YAML::Node& node, const fs::path& base_dir, const SuiteLimits& limits,
                 TestSpec& spec) {
  if (auto n = node["environment"]) parseEnvironment(check, n, base_dir, limits, spec);
  if (auto n = node["framework"]) {
    if (auto s = check.string(n, "framework")) {
      if (auto f = frameworkFromName(*s)) {
        spec.framework = *f;
      } else {
        std::string names;
        for (const auto& name : frameworkNames()) names += (names.empty() ? "" : ", ") + name;
        const std::string meant = closestWord(*s, frameworkNames());
        check.fail(n, "unknown framework '" + *s + "'" + (meant.empty() ? "" : "; did you mean '" + meant + "'?") +
                          " (known: " + names + ")");
      }
    }
  }
  if (auto n = node["timeout"]) {
    if (auto d = check.duration(n, "timeout")) spec.timeout = *d;
  }
  if (auto n = node["env"]) {
    if (auto m = check.stringMap(n, "env")) {
      for (const auto& [k, v] : *m) {
        if (!validEnvName(k)) {
          check.fail(n, "env name '" + k + "' is not a valid variable name");
        } else {
          spec.env[k] = v;
        }
      }
    }
  }
  if (auto n = node["setup"]) {
    if (auto s = check.string(n, "setup")) spec.setup = *s;
  }
  if (auto n = node["teardown"]) {
    if (auto s = check.string(n, "teardown")) spec.teardown = *s;
  }
  if (auto n = node["memory"]) {
    auto b = n.IsScalar() ? parseBytes(n.Scalar()) : std::nullopt;
    if (b && *b >= (16u << 20)) {
      spec.memory_bytes = *b;
    } else {
      check.fail(n, "'memory' must be a size of at least 16Mi, such as 512Mi or 2G");
    }
  }
  if (auto n = node["max_pids"]) {
    if (auto v = check.wholeNumber(n, "max_pids", 8, 100000)) spec.max_pids = *v;
  }
  if (auto n = node["network"]) {
    if (auto b = check.boolean(n, "network")) spec.network = *b;
  }
  if (auto n = node["artifacts"]) {
    if (auto l = check.stringList(n, "artifacts")) {
      for (const auto& pattern : *l) {
        if (pattern.empty() || pattern.size() > 256 || pattern.front() == '/' ||
            pattern.find("..") != std::string::npos) {
          check.fail(n, "artifact pattern '" + pattern + "' must be relative to the workspace, without '..'");
        } else {
          spec.artifacts.push_back(pattern);
        }
      }
    }
  }
  if (auto n = node["reruns"]) {
    if (auto v = check.wholeNumber(n, "reruns", 0, 10)) spec.reruns = *v;
  }
}

size_t workspaceBytes(const TestSpec& spec) {
  size_t total = 0;
  for (const auto& f : spec.files) total += f.content.size() + f.path.size();
  return total;
}

void checkWorkspace(Checker& check, const TestSpec& spec, const SuiteLimits& limits) {
  if (spec.files.size() > limits.max_files_per_job) {
    check.failAt(spec.line, "test '" + spec.name + "' has " + std::to_string(spec.files.size()) +
                                " files, more than the limit of " + std::to_string(limits.max_files_per_job));
  }
  if (size_t bytes = workspaceBytes(spec); bytes > limits.max_workspace_bytes) {
    check.failAt(spec.line, "test '" + spec.name + "' carries " + std::to_string(bytes) +
                                " bytes of files, more than the inline limit of " +
                                std::to_string(limits.max_workspace_bytes));
  }
}

std::string bundleFolder(Checker& check, const YAML::Node& at, const fs::path& root,
                         const std::vector<std::string>& exclude, const SuiteLimits& limits, Suite& suite);

// The `exclude:` patterns of an entry with a folder (gitignore syntax, relative to the folder).
std::vector<std::string> excludePatterns(Checker& check, const YAML::Node& node) {
  std::vector<std::string> patterns;
  if (auto n = node["exclude"]) {
    if (auto l = check.stringList(n, "exclude")) patterns = *l;
    if (!node["root"]) check.fail(n, "'exclude' names what to leave out of a 'root' folder; this entry has none");
  }
  return patterns;
}

// Where a test's workspace comes from: inline 'files', a 'root' folder bundled here, or a 'bundle' built elsewhere
// (one of them).
void parseWorkspace(Checker& check, const YAML::Node& node, const fs::path& base_dir, const SuiteLimits& limits,
                    Suite& suite, TestSpec& spec) {
  if (auto n = node["files"]) {
    if (auto m = check.stringMap(n, "files")) {
      for (const auto& [path, content] : *m) {
        if (!isSafeRelativePath(path)) {
          check.fail(n, "file path '" + path + "' must be relative and stay inside the workspace");
          continue;
        }
        spec.files.push_back({path, content, false});
      }
    }
  }
  if (auto n = node["root"]) {
    // The workspace is a whole folder (a project), read like the directory form's root.
    if (auto s = check.string(n, "root")) {
      fs::path root = fs::path(*s).is_absolute() ? fs::path(*s) : base_dir / *s;
      if (!fs::is_directory(root)) {
        check.fail(n, "'root' " + root.string() + " is not a directory");
      } else {
        spec.bundle_sha256 = bundleFolder(check, n, root, excludePatterns(check, node), limits, suite);
      }
    }
  }
  if (auto n = node["bundle"]) {
    // A bundle built elsewhere: {url: http(s)://… or file://…, sha256: <64 hex>}.
    if (!n.IsMap() || !n["url"] || !n["sha256"]) {
      check.fail(n, "'bundle' must be a mapping with 'url' and 'sha256'");
    } else {
      check.onlyKeys(n, {"url", "sha256"}, "'bundle'");
      auto url = check.string(n["url"], "bundle.url");
      auto sha = check.string(n["sha256"], "bundle.sha256");
      if (url && !(url->starts_with("http://") || url->starts_with("https://") || url->starts_with("file://"))) {
        check.fail(n["url"], "'bundle.url' must start with http://, https:// or file://");
      } else if (sha && (sha->size() != 64 || sha->find_first_not_of("0123456789abcdef") != std::string::npos)) {
        check.fail(n["sha256"], "'bundle.sha256' must be 64 lowercase hex digits");
      } else if (url && sha) {
        spec.bundle_url = *url;
        spec.bundle_sha256 = *sha;
      }
    }
  }
  if (node["root"] && node["bundle"]) check.fail(node["bundle"], "give 'root' or 'bundle', not both");
  if ((node["root"] || node["bundle"]) && node["files"]) {
    check.fail(node["files"], "'files' cannot be combined with 'root' or 'bundle' (put the files in the folder)");
  }
}

// What the test's framework needs from the entry: a framework that can list tests for 'split: test', 'tests' for
// gtest, a 'command' for shell, something to run for the others.
void checkFrameworkNeeds(Checker& check, const YAML::Node& node, const TestSpec& spec) {
  if (spec.split_tests && makeAdapter(spec.framework) && makeAdapter(spec.framework)->listCommand(v1::Job()).empty()) {
    check.fail(node["split"],
               "'split: test' works with pytest, unittest, go, gtest and ctest, which can list their "
               "tests; node and jest split by file (the directory form)");
  }
  if (spec.framework == v1::GTEST && spec.tests.empty()) {
    check.fail(node, "test '" + spec.name + "' uses gtest and needs 'tests': [the test binary, then optional filters]");
  }
  if (spec.framework == v1::SHELL && spec.command.empty()) {
    check.fail(node, "test '" + spec.name + "' uses the shell framework and needs a 'command'");
  }
  if (spec.framework != v1::SHELL && spec.files.empty() && spec.tests.empty() && spec.bundle_sha256.empty()) {
    check.fail(node, "test '" + spec.name + "' needs 'files' (or 'tests') for its framework to run");
  }
}

void parseTest(Checker& check, const YAML::Node& node, const TestSpec& defaults, const fs::path& base_dir,
               const SuiteLimits& limits, Suite& suite) {
  if (!node.IsMap()) {
    check.fail(node, "each entry of 'tests' must be a mapping with at least 'name'");
    return;
  }
  std::set<std::string> allowed = kCommonKeys;
  allowed.insert({"name", "files", "command", "tests", "root", "exclude", "junit", "bundle", "split"});
  check.onlyKeys(node, allowed, "a test");
  TestSpec spec = defaults;
  spec.line = node.Mark().line + 1;
  if (auto n = node["name"]) {
    if (auto s = check.string(n, "name")) spec.name = *s;
  }
  if (spec.name.empty()) {
    check.fail(node, "a test needs a non-empty 'name'");
    return;
  }
  applyCommon(check, node, base_dir, limits, spec);
  if (auto n = node["command"]) {
    if (auto s = check.string(n, "command")) spec.command = *s;
  }
  if (auto n = node["tests"]) {
    if (auto l = check.stringList(n, "tests")) spec.tests = *l;
  }
  parseWorkspace(check, node, base_dir, limits, suite, spec);
  if (node["exclude"] && !node["root"]) excludePatterns(check, node);  // says 'exclude' needs a 'root'
  if (auto n = node["junit"]) {
    auto s = check.string(n, "junit");
    if (s && spec.framework != v1::SHELL) {
      check.fail(n, "'junit' (the JUnit file a command writes) belongs to the shell framework");
    } else if (s && !isSafeRelativePath(*s)) {
      check.fail(n, "'junit' path '" + *s + "' must be relative to the workspace, without '..'");
    } else if (s) {
      spec.junit_file = *s;
    }
  }
  if (auto n = node["split"]) {
    auto s = check.string(n, "split");
    if (s && *s == "test") {
      spec.split_tests = true;
    } else if (s) {
      check.fail(n, "'split' of a test entry must be 'test' (one job per test case, listed first)");
    }
  }
  checkFrameworkNeeds(check, node, spec);
  checkWorkspace(check, spec, limits);
  suite.tests.push_back(std::move(spec));
}

// The test files of a packed folder (relative paths, sorted): what the bundle holds (so nothing excluded), less
// what a walk of a test tree leaves out (dot-folders, node_modules: a dependency's tests are not the project's).
std::vector<std::string> listTree(Checker& check, const YAML::Node& at, const PackedBundle& packed,
                                  const SuiteLimits& limits) {
  std::vector<std::string> files;
  for (const auto& path : packed.file_paths) {
    const fs::path p(path);
    if (std::any_of(p.begin(), p.end(), [](const fs::path& part) { return leftOutOfTree(part.string()); })) continue;
    if (files.size() >= limits.max_tests) {
      check.fail(at, "directory " + packed.source + " has more than " + std::to_string(limits.max_tests) + " files");
      break;
    }
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());  // as strings: the order jobs were always listed in
  return files;
}

// Packs root into a bundle once per suite; returns its SHA-256, or empty after reporting the problem.
std::string bundleFolder(Checker& check, const YAML::Node& at, const fs::path& root,
                         const std::vector<std::string>& exclude, const SuiteLimits& limits, Suite& suite) {
  try {
    BundleLimits bl;
    bl.max_archive_bytes = limits.max_bundle_bytes;
    PackedBundle packed = packDirectory(root, bundleRules(root, exclude), bl);
    std::string sha = packed.sha256;
    suite.bundles.emplace(sha, std::move(packed));
    return sha;
  } catch (const std::invalid_argument& e) {
    check.fail(at, e.what());
    return {};
  } catch (const std::exception& e) {
    check.fail(at, std::string("cannot bundle 'root': ") + e.what());
    return {};
  }
}

// Whether a file under the directory's root (its '/'-separated path there) is one `pattern` names. Without a '/'
// the pattern matches the file's name in any folder ("test_*.py"); with one it matches the whole path, '*' and '?'
// within one name, a "**" part standing for any number of folders, none included ("tests/**/test_*.py").
bool pathMatches(std::string_view pattern, std::string_view path) {
  if (pattern.find('/') == std::string_view::npos) return pathGlobMatch(pattern, path.substr(path.rfind('/') + 1));
  return pathGlobMatch(pattern, path);
}

// pytest's own collection chose the files, when it could be asked: those of them the bundle holds. nullopt (after a
// note) when it could not be asked.
std::optional<std::vector<std::string>> collectedFiles(const fs::path& root, const std::vector<std::string>& files,
                                                       const FileCollector& collect, Suite& suite) {
  CollectedFiles collected = collect(root, v1::PYTEST);
  if (!collected.problem.empty()) {
    suite.notes.push_back("could not ask pytest which files it runs under " + root.lexically_normal().string() + " (" +
                          collected.problem + "); the pattern chose them ('collect: pattern' stops asking)");
    return std::nullopt;
  }
  const std::set<std::string> bundled(files.begin(), files.end());
  std::set<std::string> chosen, missing;
  for (auto& f : collected.files) (bundled.count(f) ? chosen : missing).insert(std::move(f));
  suite.notes.push_back("pytest's collection chose " + std::to_string(chosen.size()) + " files under " +
                        root.lexically_normal().string() + " ('collect: pattern' chooses by pattern instead)");
  if (!missing.empty()) {
    suite.notes.push_back(std::to_string(missing.size()) +
                          " files pytest collected are not in the bundle, so left out: " + *missing.begin() +
                          (missing.size() > 1 ? " …" : ""));
  }
  return std::vector<std::string>(chosen.begin(), chosen.end());
}

// The directory form's test files, in root's order: the ones pytest's collection names (the default for pytest,
// when the suite is submitted with a collector and gives no pattern), else those the pattern matches.
std::vector<std::string> testFiles(Checker& check, const YAML::Node& node, v1::Framework framework,
                                   const fs::path& root, const std::vector<std::string>& files,
                                   const FileCollector& collect, Suite& suite) {
  std::string pattern = framework == v1::NODE_TEST || framework == v1::JEST ? "*.test.js" : "test*.py";
  if (auto n = node["pattern"]) {
    if (auto s = check.string(n, "pattern")) pattern = *s;
    if (pattern.starts_with("./")) pattern.erase(0, 2);
    if (pattern.starts_with("/") || pattern == ".." || pattern.starts_with("../") ||
        pattern.find("/../") != std::string::npos || pattern.ends_with("/..")) {
      check.fail(n, "'pattern' is relative to 'root' and stays under it (e.g. tests/**/test_*.py)");
    }
  }
  std::string how = framework == v1::PYTEST && !node["pattern"] ? "framework" : "pattern";
  if (auto n = node["collect"]) {
    if (auto s = check.string(n, "collect")) how = *s;
    if (how != "framework" && how != "pattern") {
      check.fail(n, "'collect' must be 'framework' (pytest chooses the files, the default) or 'pattern'");
    } else if (how == "framework" && (framework != v1::PYTEST || node["pattern"])) {
      check.fail(n, "'collect: framework' asks pytest which files it runs: it needs framework pytest and no 'pattern'");
    }
  }
  if (how == "framework" && framework == v1::PYTEST && collect) {
    if (auto chosen = collectedFiles(root, files, collect, suite)) {
      if (chosen->empty()) check.fail(node, "pytest's collection found no test files under " + root.string());
      return *chosen;
    }
  }
  std::vector<std::string> matched;
  for (const auto& f : files) {
    if (pathMatches(pattern, f)) matched.push_back(f);
  }
  if (matched.empty()) {
    check.fail(node, "no file under " + root.string() + " matches the pattern '" + pattern + "'" +
                         (pattern.find('/') == std::string::npos
                              ? " (a pattern without '/' matches file names; one with '/' the path under 'root', "
                                "e.g. tests/**/test_*.py)"
                              : " (a path under 'root'; '**' stands for any number of folders)"));
  }
  return matched;
}

// The directory form: one job per test file under root (testFiles chooses them).
void parseDirectory(Checker& check, const YAML::Node& node, const TestSpec& defaults, const fs::path& base_dir,
                    const SuiteLimits& limits, const FileCollector& collect, Suite& suite) {
  if (!node.IsMap()) {
    check.fail(node, "'directory' must be a mapping with 'root' and 'framework'");
    return;
  }
  std::set<std::string> allowed = kCommonKeys;
  allowed.insert({"root", "pattern", "collect", "exclude", "split", "group", "shards", "unknown_estimate"});
  check.onlyKeys(node, allowed, "'directory'");
  TestSpec base = defaults;
  base.line = node.Mark().line + 1;
  applyCommon(check, node, base_dir, limits, base);
  std::string root_text;
  if (auto n = node["root"]) {
    if (auto s = check.string(n, "root")) root_text = *s;
  } else {
    check.fail(node, "'directory' needs 'root', the folder holding the tests");
    return;
  }
  bool split_tests = false;
  if (auto n = node["split"]) {
    auto s = check.string(n, "split");
    if (s && *s == "test") {
      split_tests = true;
      if (base.framework != v1::PYTEST && base.framework != v1::UNITTEST) {
        check.fail(n, "'split: test' in the directory form works with pytest and unittest");
      }
    } else if (s && *s != "file") {
      check.fail(n, "'split' must be 'file' (one job per test file) or 'test' (one job per test case)");
    }
  }
  if (auto n = node["group"]) {
    if (auto d = check.duration(n, "group")) suite.grouping.target = *d;
  }
  if (auto n = node["shards"]) {
    if (auto v = check.wholeNumber(n, "shards", 1, 1000)) suite.grouping.shards = *v;
  }
  if (node["group"] && node["shards"])
    check.fail(node["shards"], "give 'group' (a target duration) or 'shards', not both");
  if (auto n = node["unknown_estimate"]) {
    if (auto d = check.duration(n, "unknown_estimate")) suite.grouping.unknown_estimate = *d;
  }
  if (base.framework == v1::SHELL || base.framework == v1::GTEST || base.framework == v1::GO_TEST ||
      base.framework == v1::CTEST) {
    check.fail(node,
               "'directory' splits files of pytest, unittest, node or jest; for go, gtest or ctest use a "
               "test entry with 'root'");
    return;
  }
  fs::path root = fs::path(root_text).is_absolute() ? fs::path(root_text) : base_dir / root_text;
  if (!fs::is_directory(root)) {
    check.fail(node["root"], "'root' " + root.string() + " is not a directory");
    return;
  }
  const std::string sha = bundleFolder(check, node["root"], root, excludePatterns(check, node), limits, suite);
  if (sha.empty()) return;
  const std::vector<std::string> files = listTree(check, node["root"], suite.bundles.at(sha), limits);
  for (const auto& f : testFiles(check, node, base.framework, root, files, collect, suite)) {
    TestSpec spec = base;
    spec.name = f;
    spec.tests = {f};
    spec.bundle_sha256 = sha;
    spec.groupable = true;
    spec.split_tests = split_tests;
    suite.tests.push_back(std::move(spec));
  }
}

}  // namespace

Suite parseSuite(const std::string& text, const std::string& display_name, const fs::path& base_dir,
                 const SuiteLimits& limits, const FileCollector& collect) {
  Checker check(display_name);
  // Every name, command and value becomes a proto3 string, which must be UTF-8: say where the file is not.
  if (const std::string valid = validUtf8(text); valid != text) {
    size_t at = 0;
    while (at < text.size() && at < valid.size() && text[at] == valid[at]) ++at;
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n');
    throw SuiteError({display_name + ":" + std::to_string(line) +
                      ": not UTF-8 text (save the suite file as UTF-8; test files' contents may be any bytes)"});
  }
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw SuiteError({display_name + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg});
  }
  if (!doc.IsMap()) throw SuiteError({display_name + ":1: a suite must be a mapping with 'name' and 'tests'"});
  check.onlyKeys(doc, {"name", "labels", "defaults", "tests", "directory", "flaky_fails_run"}, "the suite");
  Suite suite;
  if (auto n = doc["name"]) {
    if (auto s = check.string(n, "name")) suite.name = *s;
  }
  if (suite.name.empty()) check.fail(doc, "the suite needs a non-empty 'name'");
  if (auto n = doc["flaky_fails_run"]) {
    if (auto b = check.boolean(n, "flaky_fails_run")) suite.flaky_fails_run = *b;
  }
  if (auto n = doc["labels"]) {
    if (auto m = check.stringMap(n, "labels")) suite.labels = *m;
  }
  TestSpec defaults;
  if (auto n = doc["defaults"]) {
    if (!n.IsMap()) {
      check.fail(n, "'defaults' must be a mapping");
    } else {
      check.onlyKeys(n, kCommonKeys, "'defaults'");
      applyCommon(check, n, base_dir, limits, defaults);
    }
  }
  const YAML::Node tests = doc["tests"];
  const YAML::Node directory = doc["directory"];
  if (!tests && !directory) check.fail(doc, "the suite needs 'tests' (a list) or 'directory'");
  if (tests) {
    if (!tests.IsSequence()) {
      check.fail(tests, "'tests' must be a list");
    } else if (tests.size() > limits.max_tests) {
      check.fail(tests, "'tests' has " + std::to_string(tests.size()) + " entries, over the limit of " +
                            std::to_string(limits.max_tests));
    } else {
      for (const auto& t : tests) parseTest(check, t, defaults, base_dir, limits, suite);
    }
  }
  if (directory) parseDirectory(check, directory, defaults, base_dir, limits, collect, suite);
  std::map<std::string, int> seen;
  for (const auto& t : suite.tests) {
    if (auto [it, fresh] = seen.emplace(t.name, t.line); !fresh) {
      check.failAt(t.line, "test name '" + t.name + "' is used twice (first on line " + std::to_string(it->second) +
                               "); names must be unique");
    }
  }
  if (!check.ok()) throw SuiteError(check.take());
  return suite;
}

Suite loadSuite(const fs::path& file, const SuiteLimits& limits, const FileCollector& collect) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) throw SuiteError({file.string() + ": cannot read: " + ec.message()});
  if (size > limits.max_suite_file_bytes) {
    throw SuiteError({file.string() + ": " + std::to_string(size) + " bytes, over the limit of " +
                      std::to_string(limits.max_suite_file_bytes)});
  }
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parseSuite(text, file.string(), file.parent_path().empty() ? fs::path(".") : file.parent_path(), limits,
                    collect);
}

}  // namespace testfleet::suite
