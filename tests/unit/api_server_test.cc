#include <doctest/doctest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "aggregator/http/api_server.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/bundle.h"
#include "common/http_client.h"
#include "tests/unit/raw_connection.h"
#include "tests/unit/temp_db.h"
#include "tests/unit/temp_dir.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using nlohmann::json;
using testfleet::testing::TempDb;
using testfleet::testing::TempDir;

namespace {
v1::Result attempt(const std::string& job, int n, bool final, v1::Verdict v) {
  v1::Result r;
  r.set_schema_version(1);
  r.set_run_id("flaky-run");
  r.set_job_id(job);
  r.set_name(job);
  r.set_attempt(n);
  r.set_final(final);
  r.set_verdict(v);
  auto* c = r.add_cases();
  c->set_name("t");
  c->set_status(v);
  return r;
}

// The manifest of "flaky-run": jobs "steady" and "shaky".
v1::RunManifest twoJobRun() {
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id("flaky-run");
  m.set_suite_name("s");
  m.set_expected_jobs(2);
  m.add_job_ids("steady");
  m.add_job_ids("shaky");
  m.set_submitted_at_ms(1000);
  return m;
}
}  // namespace

TEST_CASE("the run list and the run view give the same verdict for a flaky test when flaky_fails_run is set") {
  TempDb tmp("api");
  SqliteResultStore store(tmp.path);
  v1::RunManifest m = twoJobRun();
  m.set_flaky_fails_run(true);
  store.commitBatch({attempt("steady", 1, true, v1::PASSED), attempt("shaky", 1, false, v1::FAILED),
                     attempt("shaky", 2, true, v1::PASSED)},
                    {m}, {}, 2000);
  AggregatorMetrics metrics;
  ApiServer api(store, metrics);
  const std::string base = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  HttpClient http;

  json view = json::parse(http.get(base + "/v1/runs/flaky-run").body);
  json progress = json::parse(http.get(base + "/v1/runs/flaky-run?jobs=false").body);
  json list = json::parse(http.get(base + "/v1/runs").body);
  REQUIRE(list["runs"].size() == 1);
  const json& listed = list["runs"][0];
  CHECK(view["state"] == "complete");
  CHECK(view["passed"] == false);  // the flaky job fails this run
  CHECK(listed["passed"] == view["passed"]);
  CHECK(view["jobs_failing"] == 1);
  CHECK(listed["jobs_failing"] == view["jobs_failing"]);
  CHECK(progress["jobs_failing"] == view["jobs_failing"]);
}

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using testfleet::testing::RawConnection;
constexpr uint64_t kMiB = 1 << 20;

milliseconds since(Clock::time_point start) { return std::chrono::duration_cast<milliseconds>(Clock::now() - start); }

// A real API with a blob store in a temp folder, on a free port.
struct BlobApi {
  TempDb db;
  TempDir blobs;
  SqliteResultStore store{db.path};
  AggregatorMetrics metrics;
  BlobStore blob_store;
  ApiServer api;
  int port;
  BlobApi(const std::string& name, uint64_t max_blob_bytes, const std::string& token = "")
      : db(name),
        blobs(name + "-blobs"),
        blob_store(settingsFor(blobs.path, max_blob_bytes), std::make_unique<FilesystemDiskSpace>()),
        api(store, metrics, ApiSettings{{}, &blob_store, token}),
        port(api.start("127.0.0.1", 0)) {}
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
  static BlobSettings settingsFor(const std::filesystem::path& dir, uint64_t max_blob_bytes) {
    BlobSettings settings{dir};
    settings.max_bytes = max_blob_bytes;
    return settings;
  }
};

// Resident memory of this process (server and test client both), in bytes.
uint64_t residentBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// Sends a PUT of `bytes` generated piece by piece (the client holds 64 KiB at a time) and returns the status line.
std::string streamUpload(int port, char fill, uint64_t bytes) {
  std::string chunk(64 << 10, fill);
  Sha256 hash;
  for (uint64_t sent = 0; sent < bytes; sent += chunk.size()) hash.update(chunk);
  RawConnection c(port);
  c.send("PUT /v1/blobs/" + hash.hexDigest() + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(bytes) +
         "\r\n\r\n");
  for (uint64_t sent = 0; sent < bytes; sent += chunk.size()) {
    if (!c.send(chunk)) return "send failed";
  }
  return c.receiveLine(milliseconds(30000));
}

// Swaps the default logger for one that keeps lines in memory, for as long as it lives.
struct CapturedLog {
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  CapturedLog() { spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink)); }
  ~CapturedLog() { spdlog::set_default_logger(previous); }
  bool contains(const std::string& text) const {
    for (const auto& line : sink->last_formatted()) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

v1::RunManifest manifestOf(const std::string& run, int jobs) {
  v1::RunManifest m;
  m.set_schema_version(1);
  m.set_run_id(run);
  m.set_suite_name("s");
  m.set_expected_jobs(static_cast<uint32_t>(jobs));
  for (int i = 0; i < jobs; ++i) m.add_job_ids("job-" + std::to_string(i));
  m.set_submitted_at_ms(1000);
  return m;
}

// Overwrites one leaf page of `table` in the database file with garbage, as a failing disk would.
void damageLeafPage(const std::filesystem::path& db, const std::string& table) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> handle(raw, sqlite3_close);
  sqlite3_stmt* s = nullptr;
  const std::string sql =
      "SELECT pageno FROM dbstat WHERE name = '" + table + "' AND pagetype = 'leaf' ORDER BY pageno";
  REQUIRE(sqlite3_prepare_v2(raw, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  std::vector<int64_t> pages;
  while (sqlite3_step(s) == SQLITE_ROW) pages.push_back(sqlite3_column_int64(s, 0));
  sqlite3_finalize(s);
  REQUIRE(pages.size() >= 2);
  REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA page_size", -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const int64_t page_size = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  handle.reset();
  std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp((pages[pages.size() / 2] - 1) * page_size);
  const std::string garbage(static_cast<size_t>(page_size), '\xA5');
  file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}
}  // namespace

TEST_CASE("/healthz answers within 1 s while 200 idle and trickling connections are open") {
  TempDb tmp("api-slow");
  SqliteResultStore store(tmp.path);
  AggregatorMetrics metrics;
  ApiServer api(store, metrics);
  const int port = api.start("127.0.0.1", 0);
  std::vector<std::unique_ptr<RawConnection>> idle, trickling;
  for (int i = 0; i < 100; ++i) {
    idle.push_back(std::make_unique<RawConnection>(port));
    trickling.push_back(std::make_unique<RawConnection>(port));
    trickling.back()->send("GET /healthz HTTP/1.1\r\nX-Slow: ");
  }
  HttpClient http(std::chrono::seconds(1));
  for (int round = 0; round < 5; ++round) {
    for (auto& c : trickling) c->send("a");
    const auto start = Clock::now();
    const HttpResponse r = http.get("http://127.0.0.1:" + std::to_string(port) + "/healthz");
    CHECK(r.status == 200);
    CHECK(since(start) < milliseconds(1000));
  }
}

TEST_CASE("write endpoints need the bearer token when one is configured; reads stay open") {
  BlobApi server("api-auth", kMiB, "s3cret-token");
  const std::string body = "bundle bytes";
  const std::string url = server.url("/v1/blobs/" + sha256Hex(body));

  HttpClient anonymous;
  const HttpResponse refused = anonymous.put(url, body, "application/gzip");
  CHECK(refused.status == 401);
  CHECK(refused.body.find("--api-token-file") != std::string::npos);
  CHECK(refused.body.find("s3cret") == std::string::npos);
  HttpClient wrong;
  wrong.setBearerToken("not-the-token");
  CHECK(wrong.put(url, body, "application/gzip").status == 401);
  CHECK_FALSE(server.blob_store.contains(sha256Hex(body)));

  HttpClient authorised;
  authorised.setBearerToken("s3cret-token");
  CHECK(authorised.put(url, body, "application/gzip").status == 201);
  const HttpResponse fetched = anonymous.get(url);  // workers fetch without a token
  CHECK(fetched.status == 200);
  CHECK(fetched.body == body);
  CHECK(anonymous.head(url).status == 200);
  CHECK(anonymous.get(server.url("/v1/runs")).status == 200);
}

TEST_CASE("uploads stream to disk: memory stays bounded however many come at once") {
  BlobApi server("api-upload", 256 * kMiB);
  const int port = server.port;

  const uint64_t before = residentBytes();
  std::atomic<bool> done{false};
  std::atomic<uint64_t> peak{before};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max<uint64_t>(peak, residentBytes());
      std::this_thread::sleep_for(milliseconds(10));
    }
  });
  std::vector<std::future<std::string>> uploads;
  for (char fill : {'a', 'b', 'c', 'd'}) {
    uploads.push_back(std::async(std::launch::async, [=] { return streamUpload(port, fill, 32 * kMiB); }));
  }
  for (auto& u : uploads) CHECK(u.get().starts_with("HTTP/1.1 201"));
  done = true;
  sampler.join();
  MESSAGE("resident memory grew by " << (peak - before) / kMiB << " MiB while 4 x 32 MiB were uploaded");
  CHECK(peak - before < 40 * kMiB);
}

TEST_CASE("an upload over the size limit is refused before its body is read") {
  BlobApi server("api-big", kMiB);
  RawConnection c(server.port);
  const auto start = Clock::now();
  c.send("PUT /v1/blobs/" + std::string(64, 'a') +
         " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(100 * kMiB) + "\r\n\r\n");
  CHECK(c.receiveLine(milliseconds(5000)).starts_with("HTTP/1.1 413"));
  CHECK(since(start) < milliseconds(2000));
  CHECK(c.closedBy(milliseconds(2000)));  // its body was never read: the connection cannot be reused
}

TEST_CASE("a write anywhere but the blob endpoint is refused before its body is read") {
  TempDb tmp("api-write");
  SqliteResultStore store(tmp.path);
  AggregatorMetrics metrics;
  ApiServer api(store, metrics);
  RawConnection c(api.start("127.0.0.1", 0));
  const auto start = Clock::now();
  c.send("POST /v1/runs HTTP/1.1\r\nHost: t\r\n\r\nbody without a length, which would be read until EOF");
  CHECK(c.receiveLine(milliseconds(5000)).starts_with("HTTP/1.1 405"));
  CHECK(since(start) < milliseconds(2000));
}

TEST_CASE("POST /v1/runs/{id}/cancel needs the token, knows the run, and shows the run cancelled once a job says so") {
  TempDb tmp("api-cancel");
  SqliteResultStore store(tmp.path);
  const v1::RunManifest m = twoJobRun();
  store.commitBatch({attempt("steady", 1, true, v1::PASSED)}, {m}, {}, 2000);
  AggregatorMetrics metrics;
  std::vector<std::string> cancelled;  // HTTP threads: read after the requests returned
  ApiSettings settings;
  settings.api_token = "s3cret-token";
  settings.cancel_run = [&](const std::string& run_id) {
    cancelled.push_back(run_id);
    return std::string();
  };
  ApiServer api(store, metrics, settings);
  const std::string base = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  HttpClient anonymous, authorised;
  authorised.setBearerToken("s3cret-token");
  CHECK(anonymous.post(base + "/v1/runs/flaky-run/cancel", "", "application/json").status == 401);
  CHECK(authorised.post(base + "/v1/runs/no-such-run/cancel", "", "application/json").status == 404);
  CHECK(cancelled.empty());
  CHECK(authorised.post(base + "/v1/runs/flaky-run/cancel", "", "application/json").status == 202);
  CHECK(cancelled == std::vector<std::string>{"flaky-run"});
  CHECK(json::parse(anonymous.get(base + "/v1/runs/flaky-run").body)["state"] == "running");

  store.commitBatch({attempt("shaky", 1, true, v1::CANCELLED)}, {}, {}, 3000);  // a worker skipped it
  const json view = json::parse(anonymous.get(base + "/v1/runs/flaky-run").body);
  CHECK(view["state"] == "cancelled");
  CHECK(view["passed"] == false);
}

TEST_CASE("a progress long-poll answers when the run moves, at its deadline, or at once when it already moved") {
  using std::chrono::milliseconds;
  using Clock = std::chrono::steady_clock;
  TempDb tmp("api-long-poll");
  SqliteResultStore store(tmp.path);
  store.commitBatch({}, {twoJobRun()}, {}, 2000);
  AggregatorMetrics metrics;
  RunChanges changes;
  ApiSettings settings;
  settings.changes = &changes;
  ApiServer api(store, metrics, settings);
  const std::string run = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0)) + "/v1/runs/flaky-run";
  auto ask = [](const std::string& url) {
    return std::async(std::launch::async, [url] {
      HttpClient http(std::chrono::seconds(40));
      return http.get(url);
    });
  };

  // Held while nothing moves: across a stored batch of another run, and one of this run that left it as it was.
  auto held = ask(run + "?jobs=false&done=0&wait_ms=20000");
  CHECK(held.wait_for(milliseconds(300)) == std::future_status::timeout);
  changes.publish({"another-run"});
  CHECK(held.wait_for(milliseconds(300)) == std::future_status::timeout);
  changes.publish({"flaky-run"});
  CHECK(held.wait_for(milliseconds(300)) == std::future_status::timeout);
  store.commitBatch({attempt("steady", 1, true, v1::PASSED)}, {}, {}, 3000);
  changes.publish({"flaky-run"});
  REQUIRE(held.wait_for(milliseconds(5000)) == std::future_status::ready);
  CHECK(json::parse(held.get().body)["jobs_done"] == 1);

  // The client's count is already stale: at once.
  HttpClient http;
  auto start = Clock::now();
  CHECK(json::parse(http.get(run + "?jobs=false&done=0&wait_ms=20000").body)["jobs_done"] == 1);
  CHECK(Clock::now() - start < milliseconds(5000));
  // Nothing moves: the answer comes at the deadline, with the same count.
  start = Clock::now();
  CHECK(json::parse(http.get(run + "?jobs=false&done=1&wait_ms=400").body)["jobs_done"] == 1);
  CHECK(Clock::now() - start >= milliseconds(400));
  CHECK(http.get(run + "?jobs=false&done=1&wait_ms=30001").status == 400);

  // Stopping the server ends a wait instead of holding the shutdown for its whole deadline.
  auto cut = ask(run + "?jobs=false&done=1&wait_ms=30000");
  CHECK(cut.wait_for(milliseconds(300)) == std::future_status::timeout);
  start = Clock::now();
  api.stop();
  CHECK(cut.wait_for(milliseconds(10000)) == std::future_status::ready);
  CHECK(Clock::now() - start < milliseconds(10000));
}

TEST_CASE("/readyz says why the aggregator cannot take results, and recovers with it") {
  TempDb tmp("api-ready");
  SqliteResultStore store(tmp.path);
  AggregatorMetrics metrics;
  std::mutex mu;
  std::string reason = "cannot store results: database or disk is full";
  ApiSettings settings;
  settings.not_ready_reason = [&] {
    std::lock_guard lock(mu);
    return reason;
  };
  ApiServer api(store, metrics, settings);
  const std::string url = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0)) + "/readyz";
  HttpClient http;
  const HttpResponse full = http.get(url);
  CHECK(full.status == 503);
  CHECK(full.body.find("disk is full") != std::string::npos);
  {
    std::lock_guard lock(mu);
    reason.clear();
  }
  CHECK(http.get(url).status == 200);
}

TEST_CASE("a database read that fails is a 500 and a log line, never a short answer") {
  TempDb tmp("api-damaged");
  {
    SqliteResultStore store(tmp.path);
    std::vector<v1::Result> results;
    for (int i = 0; i < 40; ++i) {
      v1::Result r = attempt("job-" + std::to_string(i), 1, true, v1::PASSED);
      r.set_run_id("damaged");
      r.mutable_cases(0)->set_details(std::string(600, 'o'));  // a few results per page
      results.push_back(r);
    }
    store.commitBatch(results, {manifestOf("damaged", 40)}, {}, 2000);
  }
  damageLeafPage(tmp.path, "results");
  SqliteResultStore store(tmp.path);
  AggregatorMetrics metrics;
  ApiServer api(store, metrics);
  const std::string base = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  CapturedLog log;
  HttpClient http;

  const HttpResponse r = http.get(base + "/v1/runs/damaged");
  CHECK(r.status == 500);
  CHECK(r.body.find("malformed") != std::string::npos);
  CHECK(log.contains("GET /v1/runs/damaged"));
}
