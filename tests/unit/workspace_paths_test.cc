#include <doctest/doctest.h>

#include <string>

#include "common/workspace_paths.h"

using namespace testfleet;

TEST_CASE("a safe relative path stays inside the folder it is joined to") {
  for (const char* ok : {"a", "a/b.py", "dir/", "a/b/c/", "..a", "a..", ".hidden/x", "a b/c"}) {
    CAPTURE(ok);
    CHECK(isSafeRelativePath(ok));
  }
  for (const char* bad : {"", "/", "/etc/passwd", "..", "../x", "a/../b", "a/..", ".", "./a", "a/./b", "a//b", "a//"}) {
    CAPTURE(bad);
    CHECK_FALSE(isSafeRelativePath(bad));
  }
  CHECK_FALSE(isSafeRelativePath(std::string("a\0b", 3)));
}

TEST_CASE("a safe relative path is bounded in length") {
  CHECK(isSafeRelativePath(std::string(1024, 'a')));
  CHECK_FALSE(isSafeRelativePath(std::string(1025, 'a')));
  CHECK(isSafeRelativePath(std::string(4096, 'a'), 4096));
  CHECK_FALSE(isSafeRelativePath(std::string(4097, 'a'), 4096));
}

TEST_CASE("walks of a test tree leave out hidden entries, __pycache__ and node_modules") {
  for (const char* out : {".git", ".env", "__pycache__", "node_modules", "."}) {
    CAPTURE(out);
    CHECK(leftOutOfTree(out));
  }
  for (const char* in : {"test_a.py", "pycache", "node_modules2", "a.hidden", "src"}) {
    CAPTURE(in);
    CHECK_FALSE(leftOutOfTree(in));
  }
}
