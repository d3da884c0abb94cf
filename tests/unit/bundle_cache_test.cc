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

TEST_CASE("a URL's origin: scheme, lowercase host and port, or nothing for what is not plain http(s)") {
  CHECK(worker::urlOrigin("http://127.0.0.1:8480/v1/blobs/abc") == "http://127.0.0.1:8480");
  CHECK(worker::urlOrigin("http://Aggregator.Local/x?y") == "http://aggregator.local:80");
  CHECK(worker::urlOrigin("https://blobs.example:443") == "https://blobs.example:443");
  CHECK(worker::urlOrigin("https://blobs.example:0443/a") == "https://blobs.example:443");
  CHECK(worker::urlOrigin("http://user:pw@127.0.0.1/x") == "");
  CHECK(worker::urlOrigin("http://127.0.0.1:99999/x") == "");
  CHECK(worker::urlOrigin("file:///etc/passwd") == "");
  CHECK(worker::urlOrigin("http:///x") == "");
  CHECK(worker::urlOrigin("http://[::1]:8480/x") == "http://[::1]:8480");
}

TEST_CASE("an http bundle from an origin the worker was not given is refused before anything is sent") {
  const auto dir = std::filesystem::temp_directory_path() / ("tf-origin-" + std::to_string(::getpid()));
  worker::BundleCache cache(dir, {}, false, 1 << 20, {"http://aggregator:8480"});
  v1::Bundle b;
  b.set_url("http://127.0.0.1:1/v1/blobs/x");
  b.set_sha256(std::string(64, 'a'));
  worker::BundleFetch f = cache.get(b);
  CHECK(f.error.find("not from an origin this worker fetches from (http://aggregator:8480") != std::string::npos);
  CHECK_FALSE(f.transient);
  std::filesystem::remove_all(dir);
}
