#include "producer/dead_letters.h"

#include <nlohmann/json.hpp>

#include <ctime>
#include <map>
#include <ostream>

namespace testfleet::producer {

std::vector<DeadLetterEntry> readDeadLetters(const kafka::ClientSettings& kafka, const kafka::Topics& topics) {
  std::vector<DeadLetterEntry> out;
  kafka::PartitionReader reader(kafka);
  const int partitions = kafka::partitionCount(kafka, topics.dead_letters);
  std::map<kafka::TopicPartition, int64_t> start, end;
  for (int p = 0; p < partitions; ++p) {
    kafka::TopicPartition tp{topics.dead_letters, p};
    start[tp] = kafka::PartitionReader::kBeginning;
    end[tp] = reader.endOffset(tp);
  }
  reader.assign(start);
  std::map<kafka::TopicPartition, int64_t> seen;
  auto finished = [&] {
    for (const auto& [tp, e] : end) {
      auto it = seen.find(tp);
      if (e > 0 && (it == seen.end() || it->second + 1 < e)) return false;
    }
    return true;
  };
  // read_committed: aborted records are skipped, so the last one seen may sit below the end; stop on silence too.
  int idle = 0;
  while (!finished() && idle < 20) {
    auto m = reader.poll(std::chrono::milliseconds(100));
    if (!m) {
      ++idle;
      continue;
    }
    idle = 0;
    seen[m->tp] = m->offset;
    DeadLetterEntry e;
    e.partition = m->tp.partition;
    e.offset = m->offset;
    e.decoded = e.letter.ParseFromString(m->payload);
    out.push_back(std::move(e));
  }
  return out;
}

void printDeadLetters(const std::vector<DeadLetterEntry>& entries, bool json, std::ostream& out) {
  if (json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& e : entries) {
      all.push_back({{"partition", e.partition},
                     {"offset", e.offset},
                     {"decoded", e.decoded},
                     {"reason", e.letter.reason()},
                     {"service", e.letter.service()},
                     {"at_ms", e.letter.at_ms()},
                     {"source_topic", e.letter.source_topic()},
                     {"source_partition", e.letter.source_partition()},
                     {"source_offset", e.letter.source_offset()},
                     {"key", e.letter.key()},
                     {"payload_bytes", e.letter.payload().size()}});
    }
    out << all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  if (entries.empty()) {
    out << "no dead letters\n";
    return;
  }
  for (const auto& e : entries) {
    char when[32] = "?";
    std::time_t t = static_cast<std::time_t>(e.letter.at_ms() / 1000);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
    out << e.partition << ":" << e.offset << "  " << when << "Z  " << e.letter.service() << "  from "
        << e.letter.source_topic() << "[" << e.letter.source_partition() << "]@" << e.letter.source_offset() << "\n"
        << "    " << (e.decoded ? e.letter.reason() : "(the dead letter itself does not decode)") << "\n";
  }
}

int replayDeadLetters(const kafka::ClientSettings& kafka, const kafka::Topics& topics,
                      const std::vector<std::string>& which, std::ostream& out, std::ostream& err) {
  std::map<std::pair<int32_t, int64_t>, const DeadLetterEntry*> index;
  std::vector<DeadLetterEntry> entries = readDeadLetters(kafka, topics);
  for (const auto& e : entries) index[{e.partition, e.offset}] = &e;
  kafka::Producer producer(kafka);
  int replayed = 0;
  for (const auto& w : which) {
    int32_t partition = 0;
    int64_t offset = -1;
    try {
      auto colon = w.find(':');
      if (colon != std::string::npos) partition = std::stoi(w.substr(0, colon));
      offset = std::stoll(colon == std::string::npos ? w : w.substr(colon + 1));
    } catch (const std::exception&) {
      err << "testfleet: '" << w << "' is not OFFSET or PARTITION:OFFSET\n";
      continue;
    }
    auto it = index.find({partition, offset});
    if (it == index.end() || !it->second->decoded) {
      err << "testfleet: no readable dead letter at " << partition << ":" << offset << "\n";
      continue;
    }
    const v1::DeadLetter& dl = it->second->letter;
    std::string topic = dl.source_topic(), payload = dl.payload();
    v1::Job job;
    if ((topic == topics.jobs || topics.isRetry(topic)) && job.ParseFromString(payload) && !job.job_id().empty()) {
      // A fresh attempt, due now, on the main jobs topic (the old attempt numbers are taken).
      job.set_attempt(job.attempt() + 1);
      job.set_not_before_ms(0);
      job.set_retry_hops(0);
      payload = job.SerializeAsString();
      topic = topics.jobs;
    }
    producer.send({topic, dl.key(), payload});
    out << "replayed " << partition << ":" << offset << " to " << topic << "\n";
    ++replayed;
  }
  producer.flush(std::chrono::seconds(30));
  return replayed;
}

}  // namespace testfleet::producer
