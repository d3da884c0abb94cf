#include "aggregator/http/api_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "aggregator/reports/flakiness.h"
#include "aggregator/reports/json_report.h"
#include "aggregator/reports/junit_report.h"
#include "aggregator/reports/summary.h"
#include "aggregator/reports/text_reports.h"
#include "common/bundle.h"
#include "common/clock.h"
#include "common/run_id.h"

namespace testfleet::aggregator {
namespace {
using nlohmann::json;

std::string dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

void sendError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(dump({{"error", message}}), "application/json");
}
}  // namespace

struct ApiServer::Impl {
  ResultStore& store;
  AggregatorMetrics& metrics;
  BlobSettings blobs;
  BoundedServer server;
  std::thread thread;
  std::atomic<uint64_t> blob_sequence{0};
  std::mutex blob_mu;

  Impl(ResultStore& s, AggregatorMetrics& m, BlobSettings b, ServerLimits limits)
      : store(s), metrics(m), blobs(std::move(b)), server(limits) {}

  // Frees space for `incoming` bytes by removing the least recently used blobs not used within the last hour.
  bool makeRoom(uint64_t incoming) {
    namespace fs = std::filesystem;
    std::lock_guard lock(blob_mu);
    struct Blob {
      fs::path path;
      fs::file_time_type used;
      uint64_t bytes;
    };
    std::vector<Blob> all;
    uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::directory_iterator(blobs.dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec) || it->path().filename().string().find(".partial-") != std::string::npos) continue;
      all.push_back({it->path(), it->last_write_time(ec), it->file_size(ec)});
      total += all.back().bytes;
    }
    std::sort(all.begin(), all.end(), [](const Blob& a, const Blob& b) { return a.used < b.used; });
    const auto hour_ago = fs::file_time_type::clock::now() - std::chrono::hours(1);
    for (const auto& b : all) {
      if (total + incoming <= blobs.max_total_bytes || b.used > hour_ago) break;
      fs::remove(b.path, ec);
      if (!ec) total -= b.bytes;
      spdlog::info("blob store: removed {} ({} bytes, least recently used) to make room", b.path.filename().string(),
                   b.bytes);
    }
    return total + incoming <= blobs.max_total_bytes;
  }

  // Bundles by SHA-256: PUT stores a body whose hash matches the name (idempotent), GET serves it.
  void blobRoutes() {
    namespace fs = std::filesystem;
    if (blobs.dir.empty()) return;
    fs::create_directories(blobs.dir);
    server.Put(R"(/v1/blobs/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string hash = req.matches[1];
      const fs::path path = fs::path(blobs.dir) / hash;
      std::error_code ec;
      if (fs::exists(path, ec)) return res.set_content(dump({{"sha256", hash}, {"stored", false}}), "application/json");
      if (sha256Hex(req.body) != hash) return sendError(res, 400, "the body's SHA-256 is not " + hash);
      if (!makeRoom(req.body.size())) {
        return sendError(res, 507, "the blob store is full (--max-blobs-gib); bundles used within the last hour are "
                                   "kept, so try again later or raise the limit");
      }
      const fs::path partial = path.string() + ".partial-" + std::to_string(blob_sequence++);
      {
        std::ofstream out(partial, std::ios::binary);
        out.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
        if (!out.flush()) {
          fs::remove(partial, ec);
          return sendError(res, 507, "cannot store the blob in " + blobs.dir);
        }
      }
      fs::rename(partial, path, ec);
      if (ec) return sendError(res, 500, "cannot store the blob: " + ec.message());
      res.status = 201;
      res.set_content(dump({{"sha256", hash}, {"stored", true}, {"bytes", req.body.size()}}), "application/json");
    });
    server.Get(R"(/v1/blobs/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
      const fs::path path = fs::path(blobs.dir) / std::string(req.matches[1]);
      std::ifstream in(path, std::ios::binary);
      if (!in) return sendError(res, 404, "no blob " + std::string(req.matches[1]));
      std::error_code ec;
      fs::last_write_time(path, fs::file_time_type::clock::now(), ec);  // recently used: kept longest
      if (req.method == "HEAD") return;  // "is it there?" (submit asks before uploading): no need to read it
      std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      res.set_content(std::move(body), "application/octet-stream");
    });
  }

  void routes() {
    // Bodies are read only by the blob endpoint; everything else is a GET.
    server.set_payload_max_length(blobs.dir.empty() ? (1 << 20) : blobs.max_bytes);
    blobRoutes();
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok\n", "text/plain");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.serialize(), "text/plain; version=0.0.4");
    });
    server.Get("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
      size_t limit = 50;
      if (req.has_param("limit")) {
        try {
          limit = std::clamp<size_t>(std::stoul(req.get_param_value("limit")), 1, 1000);
        } catch (const std::exception&) {
          return sendError(res, 400, "limit must be a number from 1 to 1000");
        }
      }
      json runs = json::array();
      const int64_t now = nowMillis();
      for (const auto& run : store.listRuns(limit)) {
        // The list shows progress and the verdict only; per-case counts need each run's results, so they are left
        // to /v1/runs/{id}.
        Summary s;
        s.wall_ms = static_cast<double>((run.complete() ? run.completed_at_ms : now) - run.manifest.submitted_at_ms());
        json header = runHeaderJson(run, s);
        header.erase("summary");
        runs.push_back(header);
      }
      res.set_content(dump({{"runs", runs}}), "application/json");
    });
    server.Get("/v1/history/durations", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string suite = req.get_param_value("suite");
      if (suite.empty() || suite.size() > 512) return sendError(res, 400, "give ?suite=NAME (at most 512 bytes)");
      size_t runs = 10;
      if (req.has_param("runs")) {
        try {
          runs = std::clamp<size_t>(std::stoul(req.get_param_value("runs")), 1, 100);
        } catch (const std::exception&) {
          return sendError(res, 400, "runs must be a number from 1 to 100");
        }
      }
      json jobs = json::object();
      for (const auto& [id, ms] : store.jobDurations(suite, runs)) jobs[id] = ms;
      json tests = json::object();
      for (const auto& [test, ms] : store.testDurations(suite, runs)) tests[test] = ms;
      res.set_content(dump({{"suite", suite}, {"runs", runs}, {"jobs", jobs}, {"tests", tests}}), "application/json");
    });
    server.Get(R"(/v1/runs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("jobs") == "false") {
        // Progress only (what `submit --wait` polls twice a second): no results are read or summarised.
        auto run = findRun(req, res);
        if (!run) return;
        json header = runHeaderJson(*run, Summary{});
        header.erase("summary");
        header.erase("passed");
        return res.set_content(dump(header), "application/json");
      }
      withRun(req, res, [&](const RunInfo& run, const std::vector<v1::Result>& results, const Summary& s) {
        res.set_content(dump(runJson(run, s, results, store.allAttempts(run.manifest.run_id()))), "application/json");
      });
    });
    server.Get(R"(/v1/runs/([^/]+)/report.json)", [this](const httplib::Request& req, httplib::Response& res) {
      withRun(req, res, [&](const RunInfo& run, const std::vector<v1::Result>& results, const Summary& s) {
        res.set_content(dump(runJson(run, s, results, store.allAttempts(run.manifest.run_id()))), "application/json");
      });
    });
    server.Get(R"(/v1/runs/([^/]+)/junit.xml)", [this](const httplib::Request& req, httplib::Response& res) {
      withRun(req, res, [&](const RunInfo& run, const std::vector<v1::Result>& results, const Summary&) {
        res.set_content(junitReport(run, results), "application/xml");
      });
    });
    server.Get(R"(/v1/runs/([^/]+)/jobs/([^/]+)/artifacts/(.+))",
               [this](const httplib::Request& req, httplib::Response& res) {
                 withRun(req, res, [&](const RunInfo&, const std::vector<v1::Result>& results, const Summary&) {
                   const std::string job = req.matches[2], path = req.matches[3];
                   for (const auto& r : results) {
                     if (r.job_id() != job) continue;
                     for (const auto& a : r.artifacts()) {
                       if (a.path() == path) return res.set_content(a.content(), "application/octet-stream");
                     }
                   }
                   sendError(res, 404, "job " + job + " has no artifact " + path);
                 });
               });
    server.Get(R"(/v1/runs/([^/]+)/summary.md)", [this](const httplib::Request& req, httplib::Response& res) {
      withRun(req, res, [&](const RunInfo& run, const std::vector<v1::Result>& results, const Summary& s) {
        res.set_content(markdownReport(run, s, results), "text/markdown; charset=utf-8");
      });
    });
    server.Get(R"(/v1/runs/([^/]+)/report.html)", [this](const httplib::Request& req, httplib::Response& res) {
      withRun(req, res, [&](const RunInfo& run, const std::vector<v1::Result>& results, const Summary& s) {
        res.set_content(htmlReport(run, s, results), "text/html; charset=utf-8");
      });
    });
    // A full run report is built as a JSON tree many times its text size on whichever pool thread serves it;
    // glibc keeps such freed memory in that thread's arena. Hand it back after large answers, or resident memory
    // ratchets up with every pool thread that once served a big run (measured: +9 MiB per 2,000-job report).
    server.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.size() > (256u << 10)) ::malloc_trim(0);
    });
    server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      }
      spdlog::error("{} {}: {}", req.method, req.path, what);
      sendError(res, 500, "internal error: " + what);
    });
  }

  // The run named in the path, or nullopt after answering 400/404.
  std::optional<RunInfo> findRun(const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    if (!isValidRunId(id)) {
      sendError(res, 400, "not a run id: " + std::string(kRunIdRule));
      return std::nullopt;
    }
    auto run = store.run(id);
    if (!run) sendError(res, 404, "no run " + id + " (not submitted, or its manifest is not ingested yet)");
    return run;
  }

  template <typename Fn>
  void withRun(const httplib::Request& req, httplib::Response& res, Fn&& fn) {
    auto run = findRun(req, res);
    if (!run) return;
    const std::string id = run->manifest.run_id();
    std::vector<v1::Result> results = store.finalResults(id);
    markFlaky(results, store.allAttempts(id));
    fn(*run, results, summarise(*run, results, nowMillis()));
  }
};

ApiServer::ApiServer(ResultStore& store, AggregatorMetrics& metrics, BlobSettings blobs, ServerLimits limits)
    : impl_(std::make_unique<Impl>(store, metrics, std::move(blobs), limits)) {
  impl_->routes();
}

ApiServer::~ApiServer() { stop(); }

int ApiServer::start(const std::string& host, int port) {
  const int bound = impl_->server.bindOrThrow(host, port);
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // stop() can only end the accept loop once it runs.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!impl_->server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return bound;
}

void ApiServer::stop() {
  if (impl_->thread.joinable()) {
    impl_->server.shutdown();
    impl_->thread.join();
  }
}

}  // namespace testfleet::aggregator
