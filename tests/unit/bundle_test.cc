#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
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
    if (!e.link.empty()) archive_entry_set_symlink(entry, e.link.c_str());
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

TEST_CASE("a folder packs and unpacks to the same files, executable bits kept, caches left out") {
  fs::path src = scratch("src");
  fs::create_directories(src / "pkg" / "__pycache__");
  std::ofstream(src / "pkg" / "test_a.py") << "def test_a(): pass\n";
  std::ofstream(src / "run.sh") << "#!/bin/sh\necho hi\n";
  fs::permissions(src / "run.sh", fs::perms::owner_exec, fs::perm_options::add);
  std::ofstream(src / "pkg" / "__pycache__" / "x.pyc") << "junk";
  std::ofstream(src / ".hidden") << "secret";
  PackedBundle b = packDirectory(src);
  CHECK(b.files == 2);
  CHECK(b.sha256 == sha256Hex(b.archive));
  fs::path dest = scratch("dest");
  unpackBundle(b.archive, dest);
  CHECK(slurp(dest / "pkg" / "test_a.py") == "def test_a(): pass\n");
  CHECK((fs::status(dest / "run.sh").permissions() & fs::perms::owner_exec) != fs::perms::none);
  CHECK_FALSE(fs::exists(dest / ".hidden"));
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
