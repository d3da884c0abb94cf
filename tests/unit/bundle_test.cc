#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/bundle.h"

namespace fs = std::filesystem;
using namespace testfleet;

namespace {

la_ssize_t appendTo(archive*, void* user, const void* data, size_t size) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

struct Entry {
  std::string path;
  std::string content;
  unsigned type = AE_IFREG;
  std::string link;
  bool hard = false;  // `link` is a hard link's target
};

// A tar.gz written by hand, so it can hold what packDirectory never would.
std::string hostileTar(const std::vector<Entry>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  archive_write_open2(a, &out, nullptr, appendTo, nullptr, nullptr);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (!e.link.empty() && e.hard) archive_entry_set_hardlink(entry, e.link.c_str());
    if (!e.link.empty() && !e.hard) archive_entry_set_symlink(entry, e.link.c_str());
    archive_entry_set_size(entry, e.type == AE_IFREG ? static_cast<la_int64_t>(e.content.size()) : 0);
    archive_write_header(a, entry);
    if (e.type == AE_IFREG && !e.content.empty()) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

fs::path scratch(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("tf-bundle-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("sha256 of known text") {
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a folder packs and unpacks to the same files, executable bits and dot-files kept, caches left out") {
  fs::path src = scratch("src");
  fs::create_directories(src / "pkg" / "__pycache__");
  std::ofstream(src / "pkg" / "test_a.py") << "def test_a(): pass\n";
  std::ofstream(src / "run.sh") << "#!/bin/sh\necho hi\n";
  fs::permissions(src / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
  std::ofstream(src / "pkg" / "__pycache__" / "x.pyc") << "junk";
  std::ofstream(src / ".hidden") << "secret";
  PackedBundle b = packDirectory(src);
  CHECK(b.files == 3);
  CHECK(b.sha256 == sha256Hex(b.archive));
  fs::path dest = scratch("dest");
  unpackBundle(b.archive, dest);
  CHECK(slurp(dest / "pkg" / "test_a.py") == "def test_a(): pass\n");
  CHECK((fs::status(dest / "run.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK(slurp(dest / ".hidden") == "secret");  // a project's dot-files are part of it
  CHECK_FALSE(fs::exists(dest / "pkg" / "__pycache__"));
  fs::remove_all(src);
  fs::remove_all(dest);
}

TEST_CASE("hostile bundles are refused: escapes, links, devices, duplicates, bombs") {
  auto refused = [](const std::string& archive, const std::string& why, BundleLimits limits = {}) {
    fs::path dest = scratch("hostile");
    bool threw = false;
    try {
      unpackBundle(archive, dest, limits);
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()).find(why) != std::string::npos;
      if (!threw) MESSAGE("unexpected message: " << e.what());
    }
    CHECK_FALSE(fs::exists(fs::temp_directory_path() / "tf-escaped"));
    fs::remove_all(dest);
    return threw;
  };
  CHECK(refused(hostileTar({{"../tf-escaped", "x"}}), "would leave the workspace"));
  CHECK(refused(hostileTar({{"a/../../tf-escaped", "x"}}), "would leave the workspace"));
  CHECK(refused(hostileTar({{"/tmp/tf-escaped", "x"}}), "would leave the workspace"));
  CHECK(refused(hostileTar({{"link", "", AE_IFLNK, "/etc/passwd"}}), "link or device"));
  CHECK(refused(hostileTar({{"dev", "", AE_IFCHR}}), "link or device"));
  CHECK(refused(hostileTar({{"same", "1"}, {"same", "2"}}), "given twice"));
  BundleLimits small;
  small.max_unpacked_bytes = 1000;
  CHECK(refused(hostileTar({{"big", std::string(5000, 'z')}}), "more than 1000 bytes", small));
  small = {};
  small.max_entries = 3;
  CHECK(refused(hostileTar({{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}}), "more than 3 entries", small));
  CHECK(refused("not an archive at all", "not a tar bundle"));
}

namespace {

// What packing left out for `reason`: how many, and the examples.
LeftOut leftOutFor(const PackedBundle& b, const std::string& reason) {
  for (const auto& l : b.left_out) {
    if (l.reason == reason) return l;
  }
  return {reason, 0, {}};
}

}  // namespace

TEST_CASE("a project travels whole: dot-folders, node_modules and links inside it; VCS and caches left out") {
  fs::path src = scratch("project");
  fs::create_directories(src / "node_modules" / "dep");
  fs::create_directories(src / "node_modules" / ".bin");
  fs::create_directories(src / ".config");
  fs::create_directories(src / ".git");
  fs::create_directories(src / "tests" / "__pycache__");
  fs::create_directories(src / "empty");
  std::ofstream(src / "node_modules" / "dep" / "index.js") << "module.exports = 42;\n";
  fs::create_symlink("../dep/index.js", src / "node_modules" / ".bin" / "dep");
  fs::create_directory_symlink("node_modules/dep", src / "dep-link");  // a linked folder stays a link
  std::ofstream(src / ".config" / "settings.json") << "{}";
  std::ofstream(src / ".git" / "HEAD") << "ref: refs/heads/main\n";
  std::ofstream(src / "tests" / "__pycache__" / "t.pyc") << "junk";
  std::ofstream(src / "tests" / "test_a.py") << "def test_a(): pass\n";
  fs::create_symlink("/etc/passwd", src / "absolute");
  fs::create_symlink("../../outside", src / "tests" / "up");
  fs::create_symlink(".", src / "here");              // the folder itself: inside
  fs::create_symlink("here/../x", src / "via-here");  // "here/.." lexically stays, resolved it leaves
  REQUIRE(::mkfifo((src / "pipe").c_str(), 0600) == 0);

  PackedBundle b = packDirectory(src);
  CHECK(b.files == 3);  // index.js, settings.json, test_a.py; not .git/HEAD nor t.pyc
  CHECK(b.links == 3);  // .bin/dep, dep-link, here
  CHECK(leftOutFor(b, "default").count == 2);
  CHECK(leftOutFor(b, "default").examples == std::vector<std::string>{".git/", "tests/__pycache__/"});
  CHECK(leftOutFor(b, "absolute link").examples == std::vector<std::string>{"absolute"});
  CHECK(leftOutFor(b, "link out of the folder").count == 2);
  CHECK(leftOutFor(b, "device, fifo or socket").examples == std::vector<std::string>{"pipe"});

  fs::path dest = scratch("project-out");
  unpackBundle(b.archive, dest);
  CHECK(slurp(dest / "node_modules" / ".bin" / "dep") == "module.exports = 42;\n");  // through the link
  CHECK(fs::is_symlink(dest / "node_modules" / ".bin" / "dep"));
  CHECK(fs::read_symlink(dest / "dep-link") == "node_modules/dep");
  CHECK(slurp(dest / ".config" / "settings.json") == "{}");
  CHECK(fs::is_directory(dest / "empty"));
  for (const char* gone : {".git", "tests/__pycache__", "absolute", "tests/up", "via-here", "pipe"}) {
    CAPTURE(gone);
    CHECK_FALSE(fs::exists(fs::symlink_status(dest / gone)));
  }
  fs::remove_all(src);
  fs::remove_all(dest);
}

TEST_CASE("a .testfleetignore and a suite's exclude decide what else is left out; '!' takes a default back") {
  fs::path src = scratch("ignored");
  fs::create_directories(src / "build");
  fs::create_directories(src / "docs");
  fs::create_directories(src / ".tox" / "py3");
  std::ofstream(src / "build" / "out.o") << "o";
  std::ofstream(src / "docs" / "index.md") << "#";
  std::ofstream(src / "a.log") << "log";
  std::ofstream(src / "keep.log") << "log";
  std::ofstream(src / ".tox" / "py3" / "marker") << "m";
  std::ofstream(src / "test_a.py") << "def test_a(): pass\n";
  std::ofstream(src / ".testfleetignore") << "# build products\nbuild/\n*.log\n!keep.log\n!.tox/\n";

  PackedBundle b = packDirectory(src, bundleRules(src, {"docs/"}));
  CHECK(b.file_paths == std::vector<std::string>{".testfleetignore", ".tox/py3/marker", "keep.log", "test_a.py"});
  CHECK(leftOutFor(b, ".testfleetignore").examples == std::vector<std::string>{"a.log", "build/"});
  CHECK(leftOutFor(b, "exclude").examples == std::vector<std::string>{"docs/"});
  CHECK(leftOutFor(b, "default").count == 0);

  std::ofstream(src / ".testfleetignore", std::ios::app) << "../elsewhere\n";
  CHECK_THROWS_WITH_AS(bundleRules(src), doctest::Contains(".testfleetignore:6: pattern '../elsewhere'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(bundleRules(src / "docs", {"/../x"}), doctest::Contains("exclude: pattern '/../x'"),
                       std::invalid_argument);
  fs::remove_all(src);
}

TEST_CASE("hostile links are refused when unpacking, whatever order the archive gives them in") {
  auto refusal = [](const std::string& archive) {
    fs::path dest = scratch("links");
    std::string message;
    try {
      unpackBundle(archive, dest);
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
    CHECK_FALSE(fs::exists(fs::temp_directory_path() / "tf-escaped"));
    CHECK_FALSE(fs::exists(fs::temp_directory_path() / "tf-escaped-file"));
    fs::remove_all(dest);
    return message;
  };
  const unsigned kLink = AE_IFLNK;
  // A link out, straight or through another link (checked by following, not by reading the text).
  CHECK(refusal(hostileTar({{"out", "", kLink, "../tf-escaped"}})).find("leaves the folder") != std::string::npos);
  CHECK(refusal(hostileTar({{"up", "", kLink, ".."}, {"a", "", kLink, "up/tf-escaped"}})).find("leaves the folder") !=
        std::string::npos);
  CHECK(refusal(hostileTar({{"self", "", kLink, "."}, {"a", "", kLink, "self/../tf-escaped"}}))
            .find("leaves the folder") != std::string::npos);
  CHECK(refusal(hostileTar({{"a", "", kLink, "b"}, {"b", "", kLink, "a"}})).find("loops") != std::string::npos);
  // A link, then a member written through it — and the other way round.
  const std::string through = refusal(hostileTar({{"lnk", "", kLink, "sub"}, {"lnk/f", "x"}}));
  CHECK(through.find("written through the link 'lnk'") != std::string::npos);
  CHECK(refusal(hostileTar({{"lnk", "", kLink, ".."}, {"lnk/tf-escaped-file", "x"}})).find("through the link") !=
        std::string::npos);
  CHECK(refusal(hostileTar({{"lnk/f", "x"}, {"lnk", "", kLink, "sub"}})).find("given twice") != std::string::npos);
  CHECK(refusal(hostileTar({{"lnk", "", kLink, "/tmp"}, {"lnk/tf-escaped-file", "x"}})).find("absolute") !=
        std::string::npos);
  // Hard links, fifos and sockets are not members either.
  CHECK(refusal(hostileTar({{"f", "x"}, {"h", "", AE_IFREG, "f", true}})).find("hard link") != std::string::npos);
  CHECK(refusal(hostileTar({{"fifo", "", AE_IFIFO}})).find("device, fifo or socket") != std::string::npos);
  CHECK(refusal(hostileTar({{"blk", "", AE_IFBLK}})).find("device, fifo or socket") != std::string::npos);
}

TEST_CASE("links inside the folder unpack as links, after every file") {
  fs::path dest = scratch("good-links");
  unpackBundle(hostileTar({{"bin/tool", "", AE_IFLNK, "../lib/tool.js"},
                           {"lib/tool.js", "run()"},
                           {"lib/again", "", AE_IFLNK, "../bin/tool"},
                           {"dangling", "", AE_IFLNK, "not/here"}}),
               dest);
  CHECK(slurp(dest / "lib" / "again") == "run()");
  CHECK(fs::read_symlink(dest / "bin" / "tool") == "../lib/tool.js");
  CHECK(fs::is_symlink(dest / "dangling"));
  fs::remove_all(dest);
}
