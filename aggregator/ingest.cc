#include "aggregator/ingest.h"

#include <spdlog/spdlog.h>

#include <set>

#include "common/clock.h"
#include "common/dead_letter.h"
#include "common/proto_utf8.h"
#include "common/result_parts.h"

namespace testfleet::aggregator {

std::string manifestProblem(const v1::RunManifest& m) {
  if (m.job_ids_size() == 0) return "manifest of run " + m.run_id() + " lists no jobs";
  const std::set<std::string> distinct(m.job_ids().begin(), m.job_ids().end());
  if (distinct.size() != static_cast<size_t>(m.job_ids_size())) {
    return "manifest of run " + m.run_id() + " lists a job id twice";
  }
  if (m.expected_jobs() != distinct.size()) {
    return "manifest of run " + m.run_id() + " expects " + std::to_string(m.expected_jobs()) + " jobs but lists " +
           std::to_string(distinct.size());
  }
  return "";
}

namespace {
// Counts and logs what the store kept out of every run.
void reportIgnored(const BatchOutcome& outcome, AggregatorMetrics& metrics) {
  for (const auto& [run_id, count] : outcome.unknown_job) {
    spdlog::warn("run {}: {} result(s) for jobs its manifest does not list ignored (a reused run id?)", run_id, count);
    metrics.recordsIgnored("unknown_job", count);
  }
  for (const auto& run_id : outcome.duplicate_manifest) {
    spdlog::warn("run {}: a second, different manifest ignored; the first one counts (a reused run id?)", run_id);
    metrics.recordsIgnored("duplicate_manifest", 1);
  }
}

// Decodes a record of the results topic into `results`; what is wrong with it (for the dead letter), or "".
std::string takeResult(const kafka::Message& m, std::vector<v1::Result>& results) {
  std::string problem;
  v1::Result r;
  bool decoded = r.ParseFromString(m.payload);
  if (!decoded && parseMakingStringsValidUtf8(m.payload, r)) {
    // Workers send valid UTF-8; a result that is not (an older worker) still gets its verdict stored.
    spdlog::warn("{}[{}]@{}: result text is not valid UTF-8; stored with those bytes replaced by U+FFFD", m.tp.topic,
                 m.tp.partition, m.offset);
    decoded = true;
  }
  if (!decoded)
    problem = "does not decode as testfleet.v1.Result";
  else if (r.schema_version() != 1)
    problem = "unknown schema version " + std::to_string(r.schema_version());
  else if (r.run_id().empty() || r.job_id().empty())
    problem = "result without run_id or job_id";
  else if (std::string wrong = resultPartProblem(r); !wrong.empty())
    problem = wrong;
  else
    results.push_back(std::move(r));
  return problem;
}

// Decodes a record of the runs topic into `manifests`; what is wrong with it, or "". A manifest that decodes but
// contradicts itself sets `problem_kind` to invalid_manifest.
std::string takeManifest(const std::string& payload, std::vector<v1::RunManifest>& manifests,
                         std::string& problem_kind) {
  std::string problem;
  v1::RunManifest rm;
  if (!rm.ParseFromString(payload))
    problem = "does not decode as testfleet.v1.RunManifest";
  else if (rm.schema_version() != 1)
    problem = "unknown schema version " + std::to_string(rm.schema_version());
  else if (rm.run_id().empty())
    problem = "manifest without run_id";
  else if (problem = manifestProblem(rm); !problem.empty())
    problem_kind = "invalid_manifest";
  else
    manifests.push_back(std::move(rm));
  return problem;
}
}  // namespace

Ingest::Ingest(IngestSettings settings, ResultStore& store, AggregatorMetrics& metrics, RunNotifier* notifier,
               RunChanges* changes)
    : settings_(std::move(settings)), store_(store), metrics_(metrics), notifier_(notifier), changes_(changes) {}

void Ingest::run(const std::atomic<bool>& stop) {
  const auto& t = settings_.topics;
  kafka::ensureTopics(settings_.kafka, t.specs());
  Positions stored = store_.positions();
  std::map<kafka::TopicPartition, int64_t> start;
  for (const auto& topic : {t.results, t.runs}) {
    int n = kafka::partitionCount(settings_.kafka, topic);
    for (int p = 0; p < n; ++p) {
      kafka::TopicPartition tp{topic, p};
      auto it = stored.find(tp);
      start[tp] = it == stored.end() ? kafka::PartitionReader::kBeginning : it->second;
    }
  }
  kafka::PartitionReader reader(settings_.kafka, settings_.reader_health);
  reader.assign(start);
  kafka::Producer dlq(settings_.kafka);
  metrics_.runsInProgress(store_.runsInProgress());
  spdlog::info("ingesting {} and {} from stored positions ({} known)", t.results, t.runs, stored.size());

  while (!stop) {
    std::vector<v1::Result> results;
    std::vector<v1::RunManifest> manifests;
    Positions next;
    const auto deadline = std::chrono::steady_clock::now() + settings_.max_batch_wait;
    size_t seen = 0;
    while (seen < settings_.max_batch && std::chrono::steady_clock::now() < deadline && !stop) {
      auto m = reader.poll(std::chrono::milliseconds(50));
      if (!m) continue;
      ++seen;
      next[m->tp] = m->offset + 1;
      std::string problem;
      std::string problem_kind = "undecodable";  // the metric's reason
      if (m->payload.size() > settings_.max_record_bytes) {
        problem = "record of " + std::to_string(m->payload.size()) + " bytes is over the limit";
      } else if (m->tp.topic == t.results) {
        problem = takeResult(*m, results);
      } else {
        problem = takeManifest(m->payload, manifests, problem_kind);
      }
      if (!problem.empty()) {
        spdlog::error("{}[{}]@{}: {}; sent to {}", m->tp.topic, m->tp.partition, m->offset, problem, t.dead_letters);
        metrics_.recordRejected(problem_kind);
        v1::DeadLetter dl = makeDeadLetter(problem, m->tp, m->offset, m->key, m->payload, "aggregator");
        dlq.send({t.dead_letters, m->key, dl.SerializeAsString()});
        // The dead letter must be on the broker before the position moves past the record.
        dlq.flush(std::chrono::seconds(30));
      }
    }
    if (next.empty()) continue;
    const int64_t now_ms = nowMillis();
    const BatchOutcome outcome = store_.commitBatch(results, manifests, next, now_ms);
    if (changes_) {
      std::set<std::string> touched;
      for (const auto& r : results) touched.insert(r.run_id());
      for (const auto& m : manifests) touched.insert(m.run_id());
      changes_->publish(touched);
    }
    for (size_t i : outcome.fresh) metrics_.resultStored(results[i], now_ms);
    if (outcome.fresh.size() != results.size()) {
      spdlog::info("{} duplicate result(s) ignored", results.size() - outcome.fresh.size());
    }
    reportIgnored(outcome, metrics_);
    for (const auto& run_id : outcome.completed) {
      if (auto run = store_.run(run_id)) metrics_.runCompleted(*run);
      if (notifier_) notifier_->runCompleted(run_id);
    }
    if (!manifests.empty() || !outcome.completed.empty()) metrics_.runsInProgress(store_.runsInProgress());
  }
}

}  // namespace testfleet::aggregator
