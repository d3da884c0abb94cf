#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/bundle.h"
#include "worker/bundle_cache.h"

namespace fs = std::filesystem;
using namespace testfleet;

namespace {

// A bundle of one file of `bytes` bytes, written where a file:// URL can name it.
v1::Bundle makeBundle(const fs::path& dir, const std::string& name, size_t bytes) {
  fs::path src = dir / ("src-" + name);
  fs::create_directories(src);
  std::ofstream(src / "data.bin") << std::string(bytes, name[0]);
  PackedBundle packed = packDirectory(src);
  fs::path file = dir / (name + ".tar.gz");
  std::ofstream(file, std::ios::binary) << packed.archive;
  v1::Bundle b;
  b.set_url("file://" + file.string());
  b.set_sha256(packed.sha256);
  return b;
}

}  // namespace

TEST_CASE("the bundle cache unpacks once, keeps held trees, and evicts the least recently used") {
  fs::path dir = fs::temp_directory_path() / ("tf-cache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto a = makeBundle(dir, "a", 1000), b = makeBundle(dir, "b", 1000), c = makeBundle(dir, "c", 1000),
       d = makeBundle(dir, "d", 1000);
  worker::BundleCache cache(dir / "cache", {}, /*allow_file_urls=*/true, /*max_bytes=*/2500);

  auto first = cache.get(a);
  REQUIRE(first.error.empty());
  CHECK_FALSE(first.cached);
  CHECK(cache.get(a).cached);  // second time from the cache
  {
    auto fb = cache.get(b);
    REQUIRE(fb.error.empty());
  }
  auto fc = cache.get(c);  // over 2500 bytes: b (not held, older than c) goes; a is held by `first`
  REQUIRE(fc.error.empty());
  CHECK(fs::exists(dir / "cache" / a.sha256()));
  CHECK_FALSE(fs::exists(dir / "cache" / b.sha256()));
  CHECK(cache.entries() == 2);
  first = {};  // the job holding a ended
  fc = {};
  REQUIRE(cache.get(d).error.empty());
  CHECK_FALSE(fs::exists(dir / "cache" / a.sha256()));  // least recently used, no longer held
  CHECK(cache.bytes() <= 2500);

  v1::Bundle wrong;
  wrong.set_sha256(b.sha256());  // b was evicted, so this fetches again
  wrong.set_url(c.url());        // c's bytes under b's name
  auto bad = cache.get(wrong);
  CHECK(bad.error.find("does not have the SHA-256") != std::string::npos);
  CHECK_FALSE(bad.transient);

  worker::BundleCache strict(dir / "strict");
  CHECK(strict.get(a).error.find("does not accept") != std::string::npos);
  fs::remove_all(dir);
}
