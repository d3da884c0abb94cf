#include "producer/submit.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <set>
#include <iostream>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/kafka/topics.h"
#include "common/text.h"
#include "producer/planner.h"
#include "producer/publisher.h"
#include "producer/suite.h"

namespace testfleet::producer {
namespace {

bool writeFile(const std::string& path, const std::string& content, bool append) {
  std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  out << content;
  return static_cast<bool>(out);
}

// Fetches a report of the run from the aggregator and writes it to `path`. Returns false (and says why) on failure.
bool saveReport(const FollowSettings& follow, const std::string& run_id, const std::string& name,
                const std::string& path, bool append = false) {
  HttpClient http(std::chrono::seconds(30));
  HttpResponse r = http.get(follow.aggregator_url + "/v1/runs/" + run_id + "/" + name);
  if (r.status != 200) {
    std::cerr << "testfleet: could not fetch " << name << ": " << (r.error.empty() ? std::to_string(r.status) : r.error)
              << "\n";
    return false;
  }
  if (!writeFile(path, r.body, append)) {
    std::cerr << "testfleet: could not write " << path << "\n";
    return false;
  }
  std::cerr << "testfleet: wrote " << path << "\n";
  return true;
}

// Names the jobs of the plan that have no final result yet, as far as the aggregator knows.
void printMissing(const FollowSettings& follow, const Plan& plan, std::ostream& err) {
  HttpClient http(std::chrono::seconds(30));
  HttpResponse r = http.get(follow.aggregator_url + "/v1/runs/" + plan.manifest.run_id());
  std::set<std::string> finished;
  if (r.status == 200) {
    auto run = nlohmann::json::parse(r.body, nullptr, false);
    if (!run.is_discarded()) {
      for (const auto& job : run.value("jobs", nlohmann::json::array())) finished.insert(job.value("job_id", ""));
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

// Puts every folder packed for the suite on the aggregator's blob endpoint (a bundle it has is not sent twice
// in effect: the endpoint answers 200 without storing) and records the URL workers fetch it from.
bool uploadBundles(const SubmitOptions& options, Suite& suite) {
  const std::string base = options.bundle_base_url.empty() ? options.follow.aggregator_url : options.bundle_base_url;
  HttpClient http(std::chrono::minutes(5));
  for (const auto& [sha, packed] : suite.bundles) {
    const std::string url = options.follow.aggregator_url + "/v1/blobs/" + sha;
    HttpResponse r = http.put(url, packed.archive, "application/gzip");
    if (!r.error.empty() || (r.status != 200 && r.status != 201)) {
      std::cerr << "testfleet: could not upload the suite's bundle (" << packed.files << " files, "
                << packed.archive.size() << " bytes) to " << url << ": "
                << (r.error.empty() ? "HTTP " + std::to_string(r.status) + " " + r.body.substr(0, 300) : r.error)
                << "\n  is the aggregator running there (--aggregator)?\n";
      return false;
    }
    std::cerr << "testfleet: bundle " << sha.substr(0, 12) << " (" << packed.files << " files, "
              << packed.archive.size() << " bytes) " << (r.status == 201 ? "uploaded" : "already there") << "\n";
    suite.bundle_urls[sha] = base + "/v1/blobs/" + sha;
  }
  return true;
}

}  // namespace

int runSubmit(const SubmitOptions& options) {
  Suite suite;
  try {
    suite = loadSuite(options.suite_file);
  } catch (const SuiteError& e) {
    std::cerr << "testfleet: the suite has problems; nothing was submitted:\n";
    for (const auto& p : e.problems()) std::cerr << "  " << p << "\n";
    return kUsageError;
  }
  Suite labelled = suite;
  for (const auto& [k, v] : options.labels) labelled.labels[k] = v;
  const std::string run_id = options.run_id.empty() ? randomId() : options.run_id;
  History history;
  if (options.use_history || labelled.grouping.active()) history = fetchHistory(options.follow.aggregator_url, suite.name);
  if (labelled.grouping.active()) {
    const size_t files = labelled.tests.size();
    for (const auto& [id, ms] : groupTests(labelled, history.tests)) history.jobs[id] = ms;
    std::cerr << "testfleet: " << files << " test files packed into " << labelled.tests.size() << " jobs ("
              << history.tests.size() << " files with history)\n";
  }
  if (!uploadBundles(options, labelled)) return kInfrastructure;
  Plan plan = planRun(labelled, run_id, nowMillis());
  if (options.use_history) {
    // Longest expected jobs first, from the aggregator's history of this suite; without it, the suite's order.
    size_t known = orderByHistory(plan, history.jobs);
    if (known > 0) std::cerr << "testfleet: ordered by history: " << known << " of " << plan.jobs.size()
                             << " jobs have earlier durations; longest first\n";
  }
  const auto topics = kafka::Topics::withPrefix(options.topic_prefix);
  try {
    kafka::ensureTopics(options.kafka, topics.specs());
    kafka::Producer producer(options.kafka);
    publish(plan, producer, topics);
  } catch (const kafka::Error& e) {
    std::cerr << "testfleet: could not publish to Kafka at " << options.kafka.brokers << ": " << e.what() << "\n";
    return kInfrastructure;
  }
  std::cerr << "testfleet: submitted run " << run_id << " (" << plan.jobs.size() << " jobs of suite '" << suite.name
            << "')\n";
  std::cout << run_id << "\n" << std::flush;
  if (!options.wait) return kAllPassed;

  FollowResult followed = followRun(run_id, options.follow, std::cerr);
  if (followed.outcome != FollowOutcome::kCompleted) {
    std::cerr << "testfleet: run " << run_id << " did not complete: " << followed.problem << "\n";
    printMissing(options.follow, plan, std::cerr);
    return kInfrastructure;
  }
  std::cout << formatSummary(followed.run) << std::flush;
  bool reports_ok = true;
  if (!options.junit_file.empty()) reports_ok &= saveReport(options.follow, run_id, "junit.xml", options.junit_file);
  if (!options.json_file.empty()) reports_ok &= saveReport(options.follow, run_id, "report.json", options.json_file);
  if (!options.markdown_file.empty()) {
    // Appended: $GITHUB_STEP_SUMMARY collects what every step of a job writes.
    reports_ok &= saveReport(options.follow, run_id, "summary.md", options.markdown_file, true);
  }
  if (!options.html_file.empty()) reports_ok &= saveReport(options.follow, run_id, "report.html", options.html_file);
  if (!reports_ok) return kInfrastructure;
  return followed.run.value("passed", false) ? kAllPassed : kTestsFailed;
}

}  // namespace testfleet::producer
