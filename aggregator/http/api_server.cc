#include "aggregator/http/api_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <chrono>
#include <limits>
#include <optional>
#include <regex>
#include <thread>

#include "aggregator/http/bearer_auth.h"
#include "aggregator/http/blob_routes.h"
#include "aggregator/http/query_params.h"
#include "aggregator/http/responses.h"
#include "aggregator/http/static_routes.h"
#include "aggregator/reports/flakiness.h"
#include "aggregator/reports/json_report.h"
#include "aggregator/reports/junit_report.h"
#include "aggregator/reports/suite_history.h"
#include "aggregator/reports/summary.h"
#include "aggregator/reports/text_reports.h"
#include "common/clock.h"
#include "common/run_id.h"
#include "common/verdict.h"

namespace testfleet::aggregator {
using nlohmann::json;

struct ApiServer::Impl {
  ResultStore& store;
  AggregatorMetrics& metrics;
  ApiSettings settings;
  BearerAuth auth;
  BoundedServer server;
  std::thread thread;

  Impl(ResultStore& s, AggregatorMetrics& m, ApiSettings a)
      : store(s), metrics(m), settings(std::move(a)), auth(settings.api_token), server(settings.limits) {}

  // Why a request may not go on, decided from its header alone, before any body is read: a write without the
  // token, a write anywhere but the blob endpoint, or a cancel with a body (httplib would read its body into memory,
  // without bound when it has no Content-Length). Reads take no body: one that comes anyway is left unread, ending the
  // connection.
  std::optional<std::pair<int, std::string>> refusalBeforeBody(const httplib::Request& req) const {
    const std::string authorization = req.get_header_value("Authorization");
    if (!auth.allows(req.method, authorization)) return std::pair{401, BearerAuth::refusal(authorization)};
    static const std::regex blob_path(kBlobPath), cancel_path(kCancelPath);
    const bool write = req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS";
    const bool blob = settings.blobs && req.method == "PUT" && std::regex_match(req.path, blob_path);
    const bool cancel = settings.cancel_run && req.method == "POST" && std::regex_match(req.path, cancel_path);
    if (write && !blob && !cancel) {
      return std::pair{405, "the only writes are PUT /v1/blobs/{sha256} and POST /v1/runs/{id}/cancel; " + req.method +
                                " " + req.path + " is not"};
    }
    if (cancel && ((req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0") ||
                   req.has_header("Transfer-Encoding"))) {
      return std::pair{413, "POST /v1/runs/{id}/cancel takes no body"};
    }
    return std::nullopt;
  }

  void guards() {
    // Both hooks see the header before the body: a client that waits for "100 Continue" never sends a refused
    // body, and one that does not has it left unread (which ends the connection).
    auto refuse = [this](const httplib::Request& req, httplib::Response& res) {
      auto refusal = refusalBeforeBody(req);
      if (!refusal) return false;
      if (refusal->first == 401) res.set_header("WWW-Authenticate", "Bearer");
      sendError(res, refusal->first, refusal->second);
      return true;
    };
    server.set_pre_routing_handler([refuse](const httplib::Request& req, httplib::Response& res) {
      return refuse(req, res) ? httplib::Server::HandlerResponse::Handled : httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_expect_100_continue_handler(
        [refuse](const httplib::Request& req, httplib::Response& res) { return refuse(req, res) ? res.status : 100; });
  }

  void routes() {
    guards();
    // Bodies are read only by the blob endpoint (refusalBeforeBody), which checks its own limit before reading.
    server.set_payload_max_length(settings.blobs ? settings.blobs->settings().max_bytes : 0);
    if (settings.blobs) addBlobRoutes(server, *settings.blobs);
    serviceRoutes();
    listRoutes();
    runRoutes();
    if (settings.cancel_run) cancelRoute();
    suiteRoutes();
    addStaticRoutes(server);
    afterRouting();
  }

  // POST /v1/runs/{id}/cancel: 202 once the cancel is on Kafka (workers skip and stop the run's jobs; the run
  // shows "cancelled" when its first job reports so); 404 for a run the aggregator does not know.
  void cancelRoute() {
    server.Post(kCancelPath, [this](const httplib::Request& req, httplib::Response& res) {
      const std::string run_id = req.matches[1];
      if (!store.run(run_id)) return sendError(res, 404, "no run " + run_id);
      if (std::string problem = settings.cancel_run(run_id); !problem.empty()) {
        return sendError(res, 503, "run " + run_id + " could not be cancelled: " + problem);
      }
      res.status = 202;
      res.set_content(dump({{"run_id", run_id}, {"cancelled", true}}), "application/json");
    });
  }

  // Health, readiness and Prometheus metrics.
  void serviceRoutes() {
    server.Get("/healthz",
               [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const std::string reason = settings.not_ready_reason ? settings.not_ready_reason() : "";
      if (!reason.empty()) res.status = 503;
      res.set_content(reason.empty() ? "ready\n" : "not ready: " + reason + "\n", "text/plain");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.serialize(), "text/plain; version=0.0.4");
    });
  }

  // Lists across runs: recent runs, and a suite's job and test durations (the producer's history).
  void listRoutes() {
    server.Get("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
      answerQuery(res, [&] {
        RunQuery query = runQuery(req);
        const size_t limit = query.limit;
        ++query.limit;  // one more tells whether there is a next page
        std::vector<RunInfo> found = store.listRuns(query);
        json next_cursor = nullptr;
        if (found.size() > limit) {
          found.resize(limit);
          next_cursor = encodeCursor({found.back().manifest.submitted_at_ms(), found.back().manifest.run_id()});
        }
        json runs = json::array();
        const int64_t now = nowMillis();
        for (const auto& run : found) {
          // The list shows progress and the verdict only; per-case counts need each run's results, so they are
          // left to /v1/runs/{id}.
          Summary s;
          s.wall_ms =
              static_cast<double>((run.complete() ? run.completed_at_ms : now) - run.manifest.submitted_at_ms());
          json header = runHeaderJson(run, s);
          header.erase("summary");
          runs.push_back(header);
        }
        res.set_content(dump({{"runs", runs}, {"next_cursor", next_cursor}}), "application/json");
      });
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
  }

  // One run: its state and results, its reports in every format, a job's artifacts.
  void runRoutes() {
    server.Get(R"(/v1/runs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("jobs") == "false") {
        return answerQuery(res, [&] { runProgress(req, res); });
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
  }

  // A suite's recent runs seen together: one test's history, flaky and slowest tests, duration and pass-rate trend.
  void suiteRoutes() {
    server.Get("/v1/tests/history", [this](const httplib::Request& req, httplib::Response& res) {
      answerQuery(res, [&] {
        requireKnownParams(req, {"suite", "test", "limit"});
        const std::string suite = requiredParam(req, "suite"), test = requiredParam(req, "test");
        const size_t runs = numberParam(req, "limit", 20, 1, 100);
        json history = json::array();
        for (const auto& o : testHistory(suiteRuns(suite, runs), test)) {
          history.push_back({{"run_id", o.run_id},
                             {"submitted_at_ms", o.submitted_at_ms},
                             {"verdict", verdictName(o.verdict)},
                             {"duration_ms", o.duration_ms}});
        }
        res.set_content(dump({{"suite", suite}, {"test", test}, {"runs", runs}, {"history", history}}),
                        "application/json");
      });
    });
    suiteRoute(
        R"(/v1/suites/(.+)/flaky)", "tests", {"runs"}, [](const httplib::Request&, const std::vector<SuiteRun>& runs) {
          json tests = json::array();
          for (const auto& t : flakyTests(runs)) {
            tests.push_back(
                {{"test", t.test}, {"runs", t.runs}, {"passed", t.passed}, {"failed", t.failed}, {"flaky", t.flaky}});
          }
          return tests;
        });
    suiteRoute(R"(/v1/suites/(.+)/slowest)", "tests", {"runs", "limit"},
               [](const httplib::Request& req, const std::vector<SuiteRun>& runs) {
                 json tests = json::array();
                 for (const auto& t : slowestTests(runs, numberParam(req, "limit", 20, 1, 1000))) {
                   tests.push_back({{"test", t.test}, {"runs", t.runs}, {"mean_ms", t.mean_ms}, {"max_ms", t.max_ms}});
                 }
                 return tests;
               });
    suiteRoute(R"(/v1/suites/(.+)/trend)", "points", {"runs"},
               [](const httplib::Request&, const std::vector<SuiteRun>& runs) {
                 json points = json::array();
                 for (const auto& p : suiteTrend(runs)) {
                   points.push_back({{"run_id", p.run_id},
                                     {"submitted_at_ms", p.submitted_at_ms},
                                     {"wall_ms", p.wall_ms},
                                     {"success_rate", p.success_rate},
                                     {"passed", p.passed}});
                 }
                 return points;
               });
  }

  // GET `pattern` (/v1/suites/(suite)/…?runs=20): {suite, runs, KEY: answer(the suite's last `runs` runs)}; the
  // route takes the `known` query parameters only. (tests/unit/openapi_test.cc finds routes by server.Get and this.)
  template <typename Answer>
  void suiteRoute(const char* pattern, const char* key, const std::vector<std::string_view>& known, Answer answer) {
    server.Get(pattern, [this, key, known, answer](const httplib::Request& req, httplib::Response& res) {
      answerQuery(res, [&] {
        requireKnownParams(req, known);
        const std::string suite = req.matches[1];
        const size_t runs = numberParam(req, "runs", 20, 1, 100);
        json list = answer(req, suiteRuns(suite, runs));
        res.set_content(dump({{"suite", suite}, {"runs", runs}, {key, list}}), "application/json");
      });
    });
  }

  // The suite's last `runs` runs, newest first, each with its final results (flaky cases marked).
  std::vector<SuiteRun> suiteRuns(const std::string& suite, size_t runs) {
    std::vector<SuiteRun> out;
    for (auto& run : store.listRuns({.suite = suite, .limit = runs})) {
      const std::string id = run.manifest.run_id();
      std::vector<v1::Result> finals = store.finalResults(id);
      markFlaky(finals, store.allAttempts(id));
      out.push_back({std::move(run), std::move(finals)});
    }
    return out;
  }

  // Runs `answer`, turning a refused query (BadQuery) into 400 with its message.
  template <typename Fn>
  static void answerQuery(httplib::Response& res, Fn&& answer) {
    try {
      answer();
    } catch (const BadQuery& e) {
      sendError(res, 400, e.what());
    }
  }

  // After every request: memory handed back after large answers; an exception answered with 500.
  void afterRouting() {
    // A full run report is built as a JSON tree many times its text size on whichever pool thread serves it;
    // glibc keeps such freed memory in that thread's arena. Hand it back after large answers, or resident memory
    // ratchets up with every pool thread that once served a big run (measured: +9 MiB per 2,000-job report).
    server.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.size() > (256u << 10)) ::malloc_trim(0);
    });
    server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& ep) {
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

  // GET /v1/runs/{id}?jobs=false: the run's progress only, no results read or summarised (what `submit --wait`
  // follows). With done=D and wait_ms=N it is a long-poll: the answer waits, at most N ms (up to kMaxProgressWait),
  // until the run has other than D jobs done or is complete. Waiting needs a RunChanges and a free waiter's place;
  // without them it answers at once, as it does for a run the aggregator has not seen.
  void runProgress(const httplib::Request& req, httplib::Response& res) {
    static constexpr size_t kMaxProgressWait = 30'000;
    const auto wait = std::chrono::milliseconds(numberParam(req, "wait_ms", 0, 0, kMaxProgressWait));
    const bool has_done = req.has_param("done");
    const size_t seen_done = numberParam(req, "done", 0, 0, std::numeric_limits<uint32_t>::max());
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      std::optional<RunChanges::Watch> watch;  // taken before the read: no batch stored after it is missed
      if (settings.changes && has_done) watch.emplace(*settings.changes, req.matches[1]);
      auto run = findRun(req, res);
      if (!run) return;
      json header = runHeaderJson(*run, Summary{});
      const bool moved = !has_done || run->complete() || header.value("jobs_done", 0u) != seen_done;
      if (moved || !watch || std::chrono::steady_clock::now() >= until || !watch->wait(until)) {
        header.erase("summary");
        header.erase("passed");
        return res.set_content(dump(header), "application/json");
      }
    }
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

ApiServer::ApiServer(ResultStore& store, AggregatorMetrics& metrics, ApiSettings settings)
    : impl_(std::make_unique<Impl>(store, metrics, std::move(settings))) {
  impl_->routes();
}

ApiServer::~ApiServer() { stop(); }

int ApiServer::start(const std::string& host, int port) {
  const int bound = impl_->server.bindOrThrow(host, port);
  impl_->thread = impl_->server.serveInBackground();
  return bound;
}

void ApiServer::stop() {
  if (impl_->settings.changes) impl_->settings.changes->close();  // long-polls answer now, not at their deadline
  if (impl_->thread.joinable()) {
    impl_->server.shutdown();
    impl_->thread.join();
  }
}

}  // namespace testfleet::aggregator
