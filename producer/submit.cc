#include "producer/submit.h"

#include <spdlog/spdlog.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/kafka/topics.h"
#include "common/run_id.h"
#include "common/text.h"
#include "producer/bundle_summary.h"
#include "producer/github_annotations.h"
#include "producer/publisher.h"
#include "producer/pytest_collection.h"
#include "producer/run_link.h"
#include "suite/planner.h"
#include "suite/suite.h"

namespace testfleet::producer {
namespace {
namespace fs = std::filesystem;

bool writeFile(const std::string& path, const std::string& content, bool append) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << content;
  return static_cast<bool>(out);
}

// Fetches a report of the run from the aggregator and writes it to `path`. Returns false (and says why) on failure.
// `edit`, when given, changes the report before it is written.
bool saveReport(const FollowSettings& follow, const std::string& run_id, const std::string& name,
                const std::string& path, bool append = false,
                const std::function<std::string(const std::string&)>& edit = nullptr) {
  HttpClient http(std::chrono::seconds(30));
  HttpResponse r = http.get(follow.aggregator_url + "/v1/runs/" + run_id + "/" + name);
  if (r.status != 200) {
    std::cerr << "testfleet: could not fetch " << name << ": " << (r.error.empty() ? std::to_string(r.status) : r.error)
              << "\n";
    return false;
  }
  if (!writeFile(path, edit ? edit(r.body) : r.body, append)) {
    std::cerr << "testfleet: could not write " << path << "\n";
    return false;
  }
  std::cerr << "testfleet: wrote " << path << "\n";
  return true;
}

// Names the jobs of the plan that have no final result yet, as far as the aggregator knows.
void printMissing(const FollowSettings& follow, const suite::Plan& plan, std::ostream& err) {
  HttpClient http(std::chrono::seconds(30));
  HttpResponse r = http.get(follow.aggregator_url + "/v1/runs/" + plan.manifest.run_id());
  std::set<std::string> finished;
  if (r.status == 200) {
    if (auto run = api::parseRunView(r.body); run && run->jobs) {
      for (const auto& job : *run->jobs) finished.insert(job.job_id);
    }
  }
  std::vector<std::string> missing;
  for (const auto& job : plan.jobs) {
    if (!finished.count(job.job_id())) missing.push_back(job.name());
  }
  if (missing.empty()) return;
  err << "testfleet: " << missing.size() << " job(s) without a result:\n";
  for (size_t i = 0; i < missing.size() && i < 20; ++i) err << "  " << missing[i] << "\n";
  if (missing.size() > 20) err << "  … and " << missing.size() - 20 << " more\n";
}

struct History {
  std::map<std::string, uint32_t> jobs;   // job id → ms
  std::map<std::string, uint32_t> tests;  // test file → ms
};

// The aggregator's memory of this suite; empty when it has none or cannot be reached (the run goes on without).
History fetchHistory(const std::string& aggregator_url, const std::string& suite) {
  History h;
  HttpClient http(std::chrono::seconds(3));
  HttpResponse r = http.get(aggregator_url + "/v1/history/durations?suite=" + http.escape(suite));
  auto doc = r.status == 200 ? nlohmann::json::parse(r.body, nullptr, false) : nlohmann::json();
  if (!doc.is_object()) return h;
  auto read = [&](const char* key, std::map<std::string, uint32_t>& into) {
    if (!doc.contains(key) || !doc[key].is_object()) return;
    for (const auto& [id, ms] : doc[key].items()) {
      if (ms.is_number_unsigned()) into[id] = ms.get<uint32_t>();
    }
  };
  read("jobs", h.jobs);
  read("tests", h.tests);
  return h;
}

// Asks the aggregator, giving one that is still starting (started beside this command in a CI script) a few
// seconds: the request is repeated, with growing pauses, while nothing answers or the answer is a 5xx.
HttpResponse askStartingAggregator(const std::function<HttpResponse()>& request) {
  HttpResponse r;
  for (int attempt = 0; attempt < 6; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    r = request();
    if (r.error.empty() && r.status < 500) break;
  }
  return r;
}

// " answered HTTP 503" or " does not answer: Couldn't connect to server", after a URL.
std::string howItAnswered(const HttpResponse& r) {
  return r.error.empty() ? " answered HTTP " + std::to_string(r.status) : " does not answer: " + r.error;
}

// --wait follows the run through the aggregator, so one that does not answer is found before the run is published,
// not after (one still starting gets the few seconds askStartingAggregator gives). kAllPassed when /healthz says OK.
int checkAggregatorUp(const std::string& aggregator_url) {
  HttpClient http(std::chrono::seconds(5));
  const std::string url = aggregator_url + "/healthz";
  const HttpResponse r = askStartingAggregator([&] { return http.get(url); });
  if (r.error.empty() && r.status == 200) return kAllPassed;
  std::cerr << "testfleet: --wait follows the run through the aggregator, but " << url << howItAnswered(r)
            << ". Start the aggregator or point --aggregator (TESTFLEET_AGGREGATOR) at it. Nothing was submitted.\n";
  return kInfrastructure;
}

// A run id names one submission: an id the aggregator already has is refused (kUsageError), and so is one it
// cannot be asked about (kInfrastructure). kAllPassed when the id is free. Only ids given with --run-id are asked
// about; random ones do not collide.
int checkRunIdUnused(const std::string& run_id, const std::string& aggregator_url) {
  if (!isValidRunId(run_id)) {
    std::cerr << "testfleet: --run-id '" << run_id << "' is not a run id (" << kRunIdRule
              << "); nothing was submitted\n";
    return kUsageError;
  }
  HttpClient http(std::chrono::seconds(10));
  const std::string url = aggregator_url + "/v1/runs/" + run_id + "?jobs=false";
  const HttpResponse r = askStartingAggregator([&] { return http.get(url); });
  if (r.error.empty() && r.status == 404) return kAllPassed;
  if (r.error.empty() && r.status == 200) {
    const auto run = api::parseRunView(r.body);
    const std::string suite = run ? run->suite : "";
    std::cerr << "testfleet: run id " << run_id << " is already used (by a run of suite '" << suite
              << "'); a run id names one submission. Pick another --run-id, or omit --run-id for a fresh one. "
                 "Nothing was submitted.\n";
    return kUsageError;
  }
  std::cerr << "testfleet: cannot check that run id " << run_id << " is unused: " << url << howItAnswered(r)
            << ". Start the aggregator or point --aggregator at it, or omit --run-id. Nothing was submitted.\n";
  return kInfrastructure;
}

// Puts every folder packed for the suite on the aggregator's blob endpoint (unless a HEAD says it is there
// already) and records the URL workers fetch it from. Returns an exit code: kAllPassed when every bundle is there.
int uploadBundles(const SubmitOptions& options, suite::Suite& suite) {
  const std::string base = options.bundle_base_url.empty() ? options.follow.aggregator_url : options.bundle_base_url;
  HttpClient http(std::chrono::minutes(5));
  if (!options.api_token.empty()) http.setBearerToken(options.api_token);
  for (const auto& [sha, packed] : suite.bundles) {
    std::istringstream summary(bundleSummary(packed));
    for (std::string line; std::getline(summary, line);) std::cerr << "testfleet: " << line << "\n";
    const std::string url = options.follow.aggregator_url + "/v1/blobs/" + sha;
    // The archive by name: clang 14 cannot capture a structured binding in a lambda (C++20 allows it).
    const HttpResponse r = askStartingAggregator([&, &archive = packed.archive] {
      HttpResponse head = http.head(url);
      return head.error.empty() && head.status != 200 ? http.put(url, archive, "application/gzip") : head;
    });
    if (r.error.empty() && r.status == 401) {
      std::cerr << "testfleet: the aggregator at " << options.follow.aggregator_url << " refused the suite's bundle: "
                << (options.api_token.empty() ? "it requires an API token; pass --api-token-file FILE (or set "
                                                "TESTFLEET_API_TOKEN_FILE) with the aggregator's token"
                                              : "the token in --api-token-file is not the aggregator's")
                << ". Nothing was submitted.\n";
      return kUsageError;
    }
    if (!r.error.empty() || (r.status != 200 && r.status != 201)) {
      std::cerr << "testfleet: could not upload the suite's bundle (" << packed.files << " files, "
                << packed.archive.size() << " bytes) to " << url << ": "
                << (r.error.empty() ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300) : r.error)
                << "\n  is the aggregator running there (--aggregator)?\n";
      return kInfrastructure;
    }
    std::cerr << "testfleet: bundle " << sha.substr(0, 12) << " (" << packed.files << " files, "
              << packed.archive.size() << " bytes) " << (r.status == 201 ? "uploaded" : "already there") << "\n";
    suite.bundle_urls[sha] = base + "/v1/blobs/" + sha;
  }
  return kAllPassed;
}

// split: test — the entries that ask for it are listed in a sandbox first, through the fleet itself: a small run
// of list_tests jobs (suite::planListing). Each id found becomes its own entry (name = id), which grouping may
// then pack. Returns an exit code: kAllPassed when the suite was expanded.
int expandByListing(const SubmitOptions& options, suite::Suite& suite, const kafka::Topics& topics,
                    kafka::Producer& producer) {
  const suite::Listing listing = suite::planListing(suite);
  if (listing.empty()) return kAllPassed;
  const std::string run_id = randomId();
  suite::Plan plan = suite::planRun(listing.suite, run_id, nowMillis());
  for (auto& job : plan.jobs) job.set_list_tests(true);
  publish(plan, producer, topics);
  std::cerr << "testfleet: listing tests for split: test (run " << run_id << ", " << plan.jobs.size() << " jobs)\n";
  std::ostringstream quiet;
  FollowResult followed = followRun(run_id, plan.manifest.submitted_at_ms(), options.follow, quiet);
  if (followed.outcome != FollowOutcome::kCompleted) {
    std::cerr << "testfleet: listing the tests did not complete: " << followed.problem << "\n";
    return kInfrastructure;
  }
  std::map<std::string, const api::JobView*> by_name;
  if (followed.run.jobs) {
    for (const auto& job : *followed.run.jobs) by_name[job.name] = &job;
  }
  std::vector<std::vector<std::string>> listed;
  size_t tests = 0;
  for (size_t n = 0; n < listing.members.size(); ++n) {
    const auto& members = listing.members[n];
    auto it = by_name.find(plan.jobs[n].name());
    if (it == by_name.end() || it->second->verdict != "passed" || it->second->listed.empty()) {
      std::cerr << "testfleet: could not list the tests of '" << suite.tests[members.front()].name << "'"
                << (members.size() > 1 ? " and " + std::to_string(members.size() - 1) + " more listed with it" : "");
      if (it != by_name.end()) {
        std::cerr << ": " << it->second->error << "\n" << it->second->stdout_tail << it->second->stderr_tail;
      }
      std::cerr << "\n";
      return kTestsFailed;
    }
    listed.push_back(it->second->listed);
    tests += listed.back().size();
  }
  const size_t entries = suite::expandListed(suite, listing, listed);
  std::cerr << "testfleet: " << entries << " entries split into " << tests << " tests\n";
  return kAllPassed;
}

// Reads the suite file (a directory of pytest files: pytest's own collection chooses them); nullopt after listing
// its problems.
std::optional<suite::Suite> readSuite(const std::string& file) {
  try {
    suite::Suite loaded = suite::loadSuite(file, {}, collectPytestFiles);
    for (const auto& note : loaded.notes) std::cerr << "testfleet: " << note << "\n";
    return loaded;
  } catch (const suite::SuiteError& e) {
    std::cerr << "testfleet: the suite has problems; nothing was submitted:\n";
    for (const auto& p : e.problems()) std::cerr << "  " << p << "\n";
    return std::nullopt;
  }
}

// Before anything is published: creates the folders of the report files asked for and checks each file can be
// written there, so a bad path costs nothing instead of a whole run. "" when all are ready, else what is wrong.
std::string prepareReportPaths(const SubmitOptions& options) {
  const std::pair<const char*, const std::string*> reports[] = {{"--junit", &options.junit_file},
                                                                {"--json", &options.json_file},
                                                                {"--markdown", &options.markdown_file},
                                                                {"--html", &options.html_file}};
  for (const auto& [flag, file] : reports) {
    if (file->empty()) continue;
    const fs::path path(*file);
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    const std::string where = std::string(flag) + " " + *file + ": ";
    if (ec) return where + "cannot create the folder " + path.parent_path().string() + ": " + ec.message();
    if (fs::is_directory(path)) return where + "is a folder, not a file";
    const fs::path writable = fs::exists(path) ? path : (path.has_parent_path() ? path.parent_path() : ".");
    if (access(writable.c_str(), W_OK) != 0)
      return where + "cannot write " + writable.string() + ": " + std::strerror(errno);
  }
  return "";
}

// Writes the reports asked for with --junit, --json, --markdown and --html. False when one could not be saved.
bool saveReports(const SubmitOptions& options, const std::string& run_id) {
  bool reports_ok = true;
  if (!options.junit_file.empty()) reports_ok &= saveReport(options.follow, run_id, "junit.xml", options.junit_file);
  if (!options.json_file.empty()) reports_ok &= saveReport(options.follow, run_id, "report.json", options.json_file);
  if (!options.markdown_file.empty()) {
    // Appended: $GITHUB_STEP_SUMMARY collects what every step of a job writes.
    std::function<std::string(const std::string&)> link;
    if (!options.public_url.empty())
      link = [&](const std::string& md) { return withRunLink(md, options.public_url, run_id); };
    reports_ok &= saveReport(options.follow, run_id, "summary.md", options.markdown_file, true, link);
  }
  if (!options.html_file.empty()) reports_ok &= saveReport(options.follow, run_id, "report.html", options.html_file);
  return reports_ok;
}

// --wait: follows the published run to its end, prints the summary and saves the reports. Returns the exit code.
int waitForVerdict(const SubmitOptions& options, const std::string& run_id, const suite::Plan& plan) {
  FollowResult followed = followRun(run_id, plan.manifest.submitted_at_ms(), options.follow, std::cerr);
  if (followed.outcome == FollowOutcome::kRunIdTaken) {
    std::cerr << "testfleet: " << followed.problem
              << "; this submission's results are kept out of it. Pick "
                 "another --run-id, or omit --run-id for a fresh one.\n";
    return kUsageError;
  }
  if (followed.outcome != FollowOutcome::kCompleted) {
    std::cerr << "testfleet: run " << run_id << " did not complete: " << followed.problem << "\n";
    printMissing(options.follow, plan, std::cerr);
    return kInfrastructure;
  }
  std::cout << formatSummary(followed.run);
  if (options.github_annotations) std::cout << githubAnnotations(followed.run);
  std::cout << std::flush;
  if (!saveReports(options, run_id)) return kInfrastructure;
  if (followed.run.cancelled()) return kCancelled;
  return followed.run.passed.value_or(false) ? kAllPassed : kTestsFailed;
}

}  // namespace

int runSubmit(const SubmitOptions& options) {
  const std::optional<suite::Suite> loaded = readSuite(options.suite_file);
  if (!loaded) return kUsageError;
  const suite::Suite& suite = *loaded;
  if (suite.tests.empty()) {
    // Decided before the aggregator or Kafka is asked anything: a run with no jobs could not fail, so it could not
    // pass either — unless the caller says an empty suite is expected (a generated one, say).
    std::cerr << "testfleet: the suite '" << suite.name << "' has no tests; nothing was submitted"
              << (options.allow_empty ? " (--allow-empty)\n" : " (pass --allow-empty if that is expected)\n");
    return options.allow_empty ? kAllPassed : kUsageError;
  }
  if (options.wait) {
    if (std::string problem = prepareReportPaths(options); !problem.empty()) {
      std::cerr << "testfleet: " << problem << "; nothing was submitted\n";
      return kUsageError;
    }
  }
  suite::Suite labelled = suite;
  for (const auto& [k, v] : options.labels) labelled.labels[k] = v;
  if (options.wait) {
    if (int rc = checkAggregatorUp(options.follow.aggregator_url); rc != kAllPassed) return rc;
  }
  if (!options.run_id.empty()) {
    if (int rc = checkRunIdUnused(options.run_id, options.follow.aggregator_url); rc != kAllPassed) return rc;
  }
  const std::string run_id = options.run_id.empty() ? randomId() : options.run_id;
  History history;
  if (options.use_history || labelled.grouping.active())
    history = fetchHistory(options.follow.aggregator_url, suite.name);
  if (int rc = uploadBundles(options, labelled); rc != kAllPassed) return rc;
  const auto topics = kafka::Topics::withPrefix(options.topic_prefix);
  std::unique_ptr<kafka::Producer> producer;
  try {
    kafka::ensureTopics(options.kafka, topics.specs());
    producer = std::make_unique<kafka::Producer>(options.kafka);
    if (int rc = expandByListing(options, labelled, topics, *producer); rc != kAllPassed) return rc;
  } catch (const kafka::Error& e) {
    std::cerr << "testfleet: could not publish to Kafka at " << options.kafka.brokers << ": " << e.what() << "\n";
    return kInfrastructure;
  }
  // After listing: grouping packs the tests split: test found as well as the directory form's files.
  if (labelled.grouping.active()) {
    const size_t files = labelled.tests.size();
    for (const auto& [id, ms] : suite::groupTests(labelled, history.tests)) history.jobs[id] = ms;
    std::cerr << "testfleet: " << files << " tests packed into " << labelled.tests.size() << " jobs ("
              << history.tests.size() << " with history)\n";
  }
  suite::Plan plan = suite::planRun(labelled, run_id, nowMillis());
  if (plan.jobs.empty()) {
    // A run with no jobs could not fail, so it could not pass either.
    std::cerr << "testfleet: the suite '" << suite.name << "' has no tests to run; nothing was submitted\n";
    return kUsageError;
  }
  if (options.use_history) {
    // Longest expected jobs first, from the aggregator's history of this suite; without it, the suite's order.
    size_t known = suite::orderByHistory(plan, history.jobs);
    if (known > 0)
      std::cerr << "testfleet: ordered by history: " << known << " of " << plan.jobs.size()
                << " jobs have earlier durations; longest first\n";
  }
  try {
    publish(plan, *producer, topics);
  } catch (const kafka::Error& e) {
    std::cerr << "testfleet: could not publish to Kafka at " << options.kafka.brokers << ": " << e.what() << "\n";
    return kInfrastructure;
  }
  if (options.on_published) options.on_published(run_id);
  std::cerr << "testfleet: submitted run " << run_id << " (" << plan.jobs.size() << " jobs of suite '" << suite.name
            << "')\n";
  std::cout << run_id << "\n" << std::flush;
  if (!options.wait) return kAllPassed;

  return waitForVerdict(options, run_id, plan);
}

}  // namespace testfleet::producer
