#include <doctest/doctest.h>

#include <string>

#include "common/bundle_members.h"

using namespace testfleet;
using Kind = BundleMembers::Kind;

TEST_CASE("a link stays when following it, through the other members, never leaves the folder") {
  BundleMembers m;
  REQUIRE(m.add("lib/tool.js", Kind::kFile).empty());
  REQUIRE(m.add("bin/tool", Kind::kLink, "../lib/tool.js").empty());
  REQUIRE(m.add("deep/a/b", Kind::kLink, "../../bin/tool").empty());  // through another link
  REQUIRE(m.add("root", Kind::kLink, ".").empty());
  REQUIRE(m.add("missing", Kind::kLink, "not/there/../..").empty());  // dangling, inside by name
  for (const char* ok : {"bin/tool", "deep/a/b", "root", "missing"}) {
    CAPTURE(ok);
    CHECK(m.linkProblem(ok).empty());
  }
  // Read as text these stay inside; followed, they leave.
  REQUIRE(m.add("up", Kind::kLink, "root/..").empty());
  REQUIRE(m.add("deep/out", Kind::kLink, "../root/../x").empty());
  REQUIRE(m.add("parent", Kind::kLink, "..").empty());
  REQUIRE(m.add("via-parent", Kind::kLink, "parent/x").empty());
  for (const char* bad : {"up", "deep/out", "parent", "via-parent"}) {
    CAPTURE(bad);
    CHECK(m.linkProblem(bad).find("leaves the folder") != std::string::npos);
  }
  m.removeLink("parent");
  CHECK(m.linkProblem("via-parent").empty());  // now a missing name: the kernel would stop there
  CHECK(m.links() ==
        std::vector<std::string>{"bin/tool", "deep/a/b", "deep/out", "missing", "root", "up", "via-parent"});
}

TEST_CASE("members are refused below a link or a file, twice, or as absolute links; loops are found") {
  BundleMembers m;
  REQUIRE(m.add("lnk", Kind::kLink, "dir").empty());
  CHECK(m.add("lnk/x", Kind::kFile).find("written through the link 'lnk'") != std::string::npos);
  REQUIRE(m.add("f", Kind::kFile).empty());
  CHECK(m.add("f/x", Kind::kFolder).find("written through the file 'f'") != std::string::npos);
  CHECK(m.add("f", Kind::kFile).find("given twice") != std::string::npos);
  REQUIRE(m.add("d/", Kind::kFolder).empty());
  CHECK(m.add("d", Kind::kFolder).empty());  // a folder may be given again
  CHECK(m.add("abs", Kind::kLink, "/etc").find("absolute") != std::string::npos);
  CHECK(m.add("empty", Kind::kLink, "").find("absolute") != std::string::npos);
  REQUIRE(m.add("a", Kind::kLink, "b").empty());
  REQUIRE(m.add("b", Kind::kLink, "a").empty());
  CHECK(m.linkProblem("a").find("loops") != std::string::npos);
}
