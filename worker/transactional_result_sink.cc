#include "worker/transactional_result_sink.h"

#include <thread>

#include <spdlog/spdlog.h>

namespace testfleet::worker {

TransactionalResultSink::TransactionalResultSink(const kafka::ClientSettings& client,
                                                 const std::string& transactional_id, kafka::GroupConsumer& consumer)
    : consumer_(consumer), producer_(client, transactional_id) {}

CommitOutcome TransactionalResultSink::commit(const std::vector<kafka::OutgoingRecord>& records,
                                              const kafka::TopicPartition& tp, int64_t offset,
                                              const CommitGuard& guard) {
  // Asked again inside the transaction, with the assignment held still: a commit may wait behind another slot's
  // for as long as a broker is away, and the partition be revoked (and fetched again) meanwhile.
  auto still_ours = [&] {
    if (guard.cancel && guard.cancel->load()) return false;
    if (!guard.member_id.empty() && consumer_.memberId() != guard.member_id) {
      spdlog::warn(
          "not committing {}[{}]@{}: the group dropped this worker while the job ran (another worker "
          "may have it now)",
          tp.topic, tp.partition, offset);
      return false;
    }
    return true;
  };
  for (int attempt = 1; attempt <= 5; ++attempt) {
    if (!still_ours()) return CommitOutcome::kNotCommitted;
    try {
      if (!producer_.commit(records, {{tp, offset + 1}}, consumer_, still_ours)) {
        spdlog::warn("not committing {}[{}]@{}: its partition was revoked while the commit waited", tp.topic,
                     tp.partition, offset);
        return CommitOutcome::kNotCommitted;
      }
      return CommitOutcome::kCommitted;
    } catch (const kafka::Error& e) {
      if (e.isFatal()) {
        spdlog::error("fatal Kafka producer error, the worker will stop: {}", e.what());
        return CommitOutcome::kFatal;
      }
      if (e.isPermanent()) {
        spdlog::error("the records of {}[{}]@{} are refused for good: {}", tp.topic, tp.partition, offset, e.what());
        return CommitOutcome::kRefused;
      }
      if (e.kind() == kafka::Error::Kind::kUnknownOutcome) {
        if (auto settled = committedSince(tp, offset)) {
          spdlog::warn("transaction for {}[{}]@{} had an unknown outcome: it {}", tp.topic, tp.partition, offset,
                       *settled ? "was committed" : "was not committed; trying again");
          if (*settled) return CommitOutcome::kCommitted;
          continue;
        }
        return CommitOutcome::kNotCommitted;  // unknown still: the job runs again, the aggregator drops a second result
      }
      spdlog::warn("transaction for {}[{}]@{} failed (attempt {}): {}", tp.topic, tp.partition, offset, attempt,
                   e.what());
    }
  }
  return CommitOutcome::kNotCommitted;
}

std::optional<bool> TransactionalResultSink::committedSince(const kafka::TopicPartition& tp, int64_t offset) {
  for (int attempt = 1; attempt <= 5; ++attempt) {
    try {
      return consumer_.committedOffset(tp) > offset;
    } catch (const kafka::Error& e) {
      spdlog::warn("reading the committed offset of {}[{}] (attempt {}): {}", tp.topic, tp.partition, attempt,
                   e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
  }
  return std::nullopt;
}

}  // namespace testfleet::worker
