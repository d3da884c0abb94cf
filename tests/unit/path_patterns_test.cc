#include <doctest/doctest.h>

#include <string>

#include "common/path_patterns.h"

using namespace testfleet;

namespace {

PathPatterns patternsOf(std::initializer_list<const char*> lines) {
  PathPatterns p;
  for (const char* line : lines) REQUIRE(p.add(line, "test").empty());
  return p;
}

bool leftOut(const PathPatterns& p, const char* path, bool folder = false) { return p.excluder(path, folder); }

}  // namespace

TEST_CASE("a pattern without a slash matches a name at any depth; with one it is anchored at the top") {
  auto p = patternsOf({"*.log", "build/out", "/dist"});
  CHECK(leftOut(p, "a.log"));
  CHECK(leftOut(p, "deep/down/a.log"));
  CHECK(leftOut(p, ".hidden.log"));  // "*" matches a leading dot, as in git
  CHECK_FALSE(leftOut(p, "a.log.txt"));
  CHECK(leftOut(p, "build/out"));
  CHECK_FALSE(leftOut(p, "sub/build/out"));
  CHECK(leftOut(p, "dist", true));
  CHECK(leftOut(p, "dist/x.js"));  // below a folder left out
  CHECK_FALSE(leftOut(p, "src/dist", true));
}

TEST_CASE("'*' and '?' stay within one part; '**' spans parts") {
  auto p = patternsOf({"src/*.py", "docs/**/draft?.md", "cache/**"});
  CHECK(leftOut(p, "src/a.py"));
  CHECK_FALSE(leftOut(p, "src/pkg/a.py"));
  CHECK(leftOut(p, "docs/draft1.md"));
  CHECK(leftOut(p, "docs/a/b/draft2.md"));
  CHECK_FALSE(leftOut(p, "docs/a/draft10.md"));
  CHECK(leftOut(p, "cache/x"));
  CHECK(leftOut(p, "cache/x/y"));
  CHECK_FALSE(leftOut(p, "cache", true));  // "x/**" is everything inside x, not x
  CHECK(pathGlobMatch("tests/**/test_*.py", "tests/test_a.py"));
  CHECK(pathGlobMatch("tests/**/test_*.py", "tests/unit/deep/test_b.py"));
  CHECK_FALSE(pathGlobMatch("tests/**/test_*.py", "src/tests/test_a.py"));
  CHECK(pathGlobMatch("**/conftest.py", "conftest.py"));
  CHECK(pathGlobMatch("a/[bc]/d", "a/c/d"));
}

TEST_CASE("a trailing slash matches folders only") {
  auto p = patternsOf({"logs/"});
  CHECK(leftOut(p, "logs", true));
  CHECK(leftOut(p, "a/logs", true));
  CHECK(leftOut(p, "a/logs/today.txt"));
  CHECK_FALSE(leftOut(p, "logs"));  // a file named logs stays
}

TEST_CASE("'!' takes back what an earlier pattern left out; the last match wins") {
  auto p = patternsOf({"*.txt", "!keep.txt", "!notes/", "notes/*", "!notes/a.txt"});
  CHECK(leftOut(p, "drop.txt"));
  CHECK_FALSE(leftOut(p, "keep.txt"));
  CHECK_FALSE(leftOut(p, "sub/keep.txt"));
  CHECK(leftOut(p, "notes/b.txt"));
  CHECK_FALSE(leftOut(p, "notes/a.txt"));
  // Nothing below a folder left out comes back, as in git.
  auto q = patternsOf({"vendor/", "!vendor/mine.py"});
  CHECK(leftOut(q, "vendor/mine.py"));
  CHECK(q.excluder("vendor/mine.py", false)->text == "vendor/");
}

TEST_CASE("comments, blank lines, escapes and trailing spaces are read as gitignore reads them") {
  PathPatterns p;
  CHECK(p.add("# a comment", "f").empty());
  CHECK(p.add("", "f").empty());
  CHECK(p.add("   ", "f").empty());
  CHECK(p.empty());
  REQUIRE(p.add("\\#hash", "f").empty());
  REQUIRE(p.add("\\!bang", "f").empty());
  REQUIRE(p.add("spaced   ", "f").empty());
  REQUIRE(p.add("crlf\r", "f").empty());
  CHECK(leftOut(p, "#hash"));
  CHECK(leftOut(p, "!bang"));
  CHECK(leftOut(p, "spaced"));
  CHECK(leftOut(p, "crlf"));
  CHECK(p.lastMatch("spaced", false)->source == "f");
}

TEST_CASE("a pattern with a '..' part is refused: it could only name something outside") {
  PathPatterns p;
  CHECK(p.add("../secret", "exclude").find("'..'") != std::string::npos);
  CHECK(p.add("a/../b", "exclude").find("'..'") != std::string::npos);
  CHECK(p.empty());
  CHECK(p.add("..a", "exclude").empty());  // a name that starts with dots is fine
}
