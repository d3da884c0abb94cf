#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "aggregator/blobs/blob_store.h"
#include "common/bundle.h"
#include "tests/unit/temp_dir.h"

using namespace testfleet;
using namespace testfleet::aggregator;
namespace fs = std::filesystem;
using testfleet::testing::TempDir;

namespace {
constexpr uint64_t kMiB = 1 << 20;

// A disk with as much free space as the test says; removing a blob does not change it (the store counts that).
struct FakeDisk : DiskSpace {
  std::atomic<uint64_t>& available;
  explicit FakeDisk(std::atomic<uint64_t>& a) : available(a) {}
  uint64_t availableBytes(const fs::path&) override { return available; }
};

std::string hashOf(char fill, uint64_t bytes) { return sha256Hex(std::string(bytes, fill)); }
}  // namespace

TEST_CASE("the blob store keeps the database's free space: its bound counts the disk's free space") {
  TempDir dir("blobs");
  std::atomic<uint64_t> available{10 * kMiB};
  BlobSettings settings;
  settings.dir = dir.path;
  settings.keep_free_bytes = 8 * kMiB;
  BlobStore store(settings, std::make_unique<FakeDisk>(available));

  SUBCASE("an upload that would leave less than keep_free_bytes is refused, saying why") {
    auto refused = store.begin(hashOf('a', 3 * kMiB), 3 * kMiB);
    REQUIRE_FALSE(refused.upload);
    CHECK(refused.problem->kind == BlobProblem::kNoRoom);
    CHECK(refused.problem->message.find("--min-free-gib") != std::string::npos);
  }
  SUBCASE("room promised to an upload in flight is not promised again") {
    auto first = store.begin(hashOf('a', kMiB), kMiB);
    REQUIRE(first.upload);
    CHECK_FALSE(store.begin(hashOf('b', 3 * kMiB / 2), 3 * kMiB / 2).upload);
    first.upload.reset();  // ended: its room is given back
    CHECK(store.begin(hashOf('b', 3 * kMiB / 2), 3 * kMiB / 2).upload);
  }
  SUBCASE("an old blob is removed to make room; a recent one is kept") {
    const fs::path old_blob = dir.path / hashOf('o', 2 * kMiB);
    std::ofstream(old_blob) << std::string(2 * kMiB, 'o');
    fs::last_write_time(old_blob, fs::file_time_type::clock::now() - std::chrono::hours(2));
    auto admitted = store.begin(hashOf('a', 3 * kMiB), 3 * kMiB);
    CHECK(admitted.upload);
    CHECK_FALSE(fs::exists(old_blob));

    const fs::path recent_blob = dir.path / hashOf('r', 2 * kMiB);
    std::ofstream(recent_blob) << std::string(2 * kMiB, 'r');
    CHECK_FALSE(store.begin(hashOf('c', 3 * kMiB), 3 * kMiB).upload);
    CHECK(fs::exists(recent_blob));
  }
}

TEST_CASE("an upload becomes a blob only when its bytes have the hash it is named by") {
  TempDir dir("blobs");
  std::atomic<uint64_t> available{1ull << 40};
  BlobSettings settings;
  settings.dir = dir.path;
  settings.max_bytes = kMiB;
  BlobStore store(settings, std::make_unique<FakeDisk>(available));
  const std::string body(1000, 'x');

  {
    auto good = store.begin(sha256Hex(body), std::nullopt);
    REQUIRE(good.upload);
    CHECK(good.upload->write(body.substr(0, 400)));
    CHECK(good.upload->write(body.substr(400)));
    CHECK(good.upload->finish());
  }
  CHECK(store.contains(sha256Hex(body)));
  {
    auto wrong = store.begin(std::string(64, 'a'), body.size());
    REQUIRE(wrong.upload);
    CHECK(wrong.upload->write(body));
    CHECK_FALSE(wrong.upload->finish());
    CHECK(wrong.upload->problem()->kind == BlobProblem::kWrongHash);
  }
  CHECK_FALSE(store.contains(std::string(64, 'a')));
  const auto too_large = store.begin(sha256Hex(body), 2 * kMiB);
  REQUIRE(too_large.problem);
  CHECK(too_large.problem->kind == BlobProblem::kTooLarge);
  {
    auto longer = store.begin(sha256Hex(body), 10);  // more bytes than it declared
    REQUIRE(longer.upload);
    CHECK_FALSE(longer.upload->write(body));
    CHECK(longer.upload->problem()->kind == BlobProblem::kTooLarge);
  }
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
  CHECK(files == 1);  // no partial file is left behind
}
