#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "aggregator/storage/retrying_result_store.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "aggregator/storage/store_error.h"
#include "tests/unit/eventually.h"
#include "tests/unit/temp_db.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using testfleet::testing::eventually;
using testfleet::testing::TempDb;

namespace {
// A real store whose commits fail as SQLite's do on a full disk while `full` is set.
struct FullDiskStore : SqliteResultStore {
  using SqliteResultStore::SqliteResultStore;
  std::atomic<bool> full{true};
  std::atomic<int> attempts{0};
  bool retriable = true;
  BatchOutcome commitBatch(const std::vector<v1::Result>& results, const std::vector<v1::RunManifest>& manifests,
                           const Positions& next_offsets, int64_t now_ms) override {
    ++attempts;
    if (full) throw StoreError("sqlite in COMMIT: database or disk is full", retriable);
    return SqliteResultStore::commitBatch(results, manifests, next_offsets, now_ms);
  }
};

v1::Result passed(const std::string& job) {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id("run");
  r.set_job_id(job);
  r.set_attempt(1);
  r.set_final(true);
  r.set_verdict(v1::PASSED);
  return r;
}

}  // namespace

TEST_CASE("a full disk pauses the batch and reports not ready; the batch is stored once space returns") {
  TempDb tmp("retrying");
  FullDiskStore inner(tmp.path);
  std::atomic<bool> stop{false};
  RetryingResultStore store(inner, stop, std::chrono::milliseconds(20));
  CHECK(store.notReadyReason().empty());

  auto commit = std::async(std::launch::async, [&] { return store.commitBatch({passed("j")}, {}, {}, 1000); });
  REQUIRE(eventually(std::chrono::seconds(5), [&] { return inner.attempts >= 3; }));
  CHECK(store.notReadyReason().find("disk is full") != std::string::npos);
  CHECK(commit.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);  // still waiting, no throw

  inner.full = false;
  REQUIRE(commit.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(commit.get().fresh.size() == 1);
  CHECK(store.notReadyReason().empty());
  CHECK(inner.resultRows("run") == 1);
}

TEST_CASE("errors that waiting cannot cure, and a stop while waiting, are thrown") {
  TempDb tmp("retrying-fatal");
  FullDiskStore inner(tmp.path);
  std::atomic<bool> stop{false};
  RetryingResultStore store(inner, stop, std::chrono::milliseconds(20));

  inner.retriable = false;
  CHECK_THROWS_AS(store.commitBatch({passed("j")}, {}, {}, 1000), StoreError);
  CHECK(inner.attempts == 1);

  inner.retriable = true;
  auto commit = std::async(std::launch::async, [&] { return store.commitBatch({passed("j")}, {}, {}, 1000); });
  REQUIRE(eventually(std::chrono::seconds(5), [&] { return inner.attempts >= 3; }));
  stop = true;
  REQUIRE(commit.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK_THROWS_AS(commit.get(), StoreError);
}
