// RAII wrappers over librdkafka. This is the only part of testfleet that includes librdkafka headers;
// everything else sees these types. Thread-safety is stated per class.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/kafka/client_health.h"
#include "common/kafka_properties.h"

namespace testfleet::kafka {

// How ensureTopics treats testfleet's topics: creates those missing, with this replication factor and the
// partition counts of TopicSpec unless `partitions` names the topic's role (jobs=48); or, for a client that may
// not create topics (--no-create-topics), only checks that they exist.
struct TopicCreation {
  bool create = true;
  int replication_factor = -1;  // -1: the cluster's default.replication.factor (1 on scripts/kafka.sh's broker, 3 on
                                // scripts/kafka-cluster.sh's cluster), so a replicated cluster gets replicated topics
  std::map<std::string, int> partitions;  // by role: jobs, results, runs, dlq, retry (Topics::kSizableRoles)
};

// Where the cluster is and who we are. Typed; only kafka.cc turns it into librdkafka properties.
struct ClientSettings {
  std::string brokers = "127.0.0.1:19092";
  std::string client_id = "testfleet";
  // How long ensureTopics tries to open a TCP connection to a broker before it says why it cannot.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  // The operator's librdkafka properties (security, SASL, TLS, tuning; common/kafka_properties.h), applied to
  // every client after testfleet's own tuning. kafka::clientSettings checks them at start (propertiesProblem).
  KafkaProperties properties;
  TopicCreation topic_creation;
};

// "" when librdkafka accepts every one of `properties` (known keys, valid values); otherwise what it says about the
// first it refuses, a secret's value left out. For checking an operator's properties at start.
std::string propertiesProblem(const KafkaProperties& properties);

// A Kafka failure, decided at the boundary: retriable errors may be retried by the caller as they are,
// abortable ones need the current transaction aborted, fatal ones need the client rebuilt. kPermanent: the same
// records will fail the same way however often they are sent (too large for the broker, not authorised).
// kUnknownOutcome: a transaction's commit may or may not have happened; the caller must find out which.
class Error : public std::runtime_error {
 public:
  enum class Kind { kRetriable, kAbortable, kFatal, kPermanent, kUnknownOutcome, kOther };
  Error(const std::string& what, Kind kind) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  bool isRetriable() const { return kind_ == Kind::kRetriable; }
  bool isFatal() const { return kind_ == Kind::kFatal; }
  bool isPermanent() const { return kind_ == Kind::kPermanent; }

 private:
  Kind kind_;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct Message {
  TopicPartition tp;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;  // when the record was produced (or appended), -1 when unknown
  std::string key;
  std::string payload;
};

struct OutgoingRecord {
  std::string topic;
  std::string key;
  std::string payload;
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
  bool compacted = false;
  std::string role;  // what TopicCreation::partitions calls it ("jobs", "retry"); empty: no override
};

// Creates the topics that do not exist yet (settings.topic_creation); existing ones are left as they are. Throws
// Error: at once (retriable) when no broker accepts a connection within settings.connect_timeout, saying why
// (unreachableBrokers). With topic_creation.create false it only checks: a missing topic is Error(kPermanent)
// naming it.
void ensureTopics(const ClientSettings& settings, const std::vector<TopicSpec>& topics,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Number of partitions of a topic (metadata request). Throws Error when the topic does not exist.
int partitionCount(const ClientSettings& settings, const std::string& topic,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

// An idempotent producer. send() may be called from any thread; flush() reports the first failed delivery.
class Producer {
 public:
  explicit Producer(const ClientSettings& settings);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  void send(const OutgoingRecord& record);
  // Waits until every record sent so far is acknowledged; throws Error on the first that failed.
  void flush(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class GroupConsumer;

// A transactional producer: each commit() writes records and consumer offsets atomically.
// commit() may be called from any thread; calls are serialised internally (one transaction at a time).
class TransactionalProducer {
 public:
  TransactionalProducer(const ClientSettings& settings, const std::string& transactional_id);
  ~TransactionalProducer();
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  // begin → produce records → send offsets (next offsets to read) for consumer's group → commit, following
  // librdkafka's transactional contract:
  //  - a retriable error of commit_transaction (a timeout: the outcome is unknown) retries that same call;
  //  - an error that requires an abort aborts: Error(kAbortable), nothing was written; Error(kPermanent) instead
  //    when a record was refused for good (too large, not authorised), so the caller stops sending it;
  //  - a fatal error before the commit was asked for rebuilds the producer (fencing included): Error(kAbortable);
  //  - a fatal error, or retries that never end, once the commit was asked for rebuild the producer too (its
  //    init_transactions completes or aborts the pending transaction) and throw Error(kUnknownOutcome): the caller
  //    must learn from the group's committed offsets whether the transaction happened.
  // Error(kFatal) only when even the rebuild failed.
  // still_ours (when set) is asked just before the offsets join the transaction, while consumer's assignment is
  // held still: false aborts the transaction and commit returns false, nothing written. A revoke waits for that
  // step (the question through send_offsets_to_transaction) to end, so once it returns, a commit of a revoked
  // partition's offset either has its offsets pending at the group coordinator — and the partition's next owner
  // waits for the transaction (UNSTABLE_OFFSET_COMMIT) — or hears false. Without it, a commit that waited behind
  // another (one transaction at a time) could commit a job its partition's new assignment fetches again.
  bool commit(const std::vector<OutgoingRecord>& records, const std::map<TopicPartition, int64_t>& offsets,
              GroupConsumer& consumer, const std::function<bool()>& still_ours = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Rebalance events, called on the thread that calls GroupConsumer::poll().
struct RebalanceListener {
  virtual ~RebalanceListener() = default;
  virtual void onAssigned(const std::vector<TopicPartition>& partitions) = 0;
  virtual void onRevoked(const std::vector<TopicPartition>& partitions) = 0;
};

struct GroupConsumerSettings {
  ClientSettings client;
  ClientHealth* health = nullptr;  // when set, reported to every few seconds while poll() is called
  std::string group_id;
  std::vector<std::string> topics;
  std::chrono::milliseconds session_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds max_poll_interval{std::chrono::minutes(5)};
};

// A consumer-group member with cooperative-sticky assignment, read_committed, no auto commit.
// Not thread-safe except groupMetadata use by TransactionalProducer::commit(); one thread polls.
class GroupConsumer {
 public:
  GroupConsumer(const GroupConsumerSettings& settings, RebalanceListener* listener);
  ~GroupConsumer();
  GroupConsumer(const GroupConsumer&) = delete;
  GroupConsumer& operator=(const GroupConsumer&) = delete;

  std::optional<Message> poll(std::chrono::milliseconds timeout);
  void pause(const std::vector<TopicPartition>& partitions);
  void resume(const std::vector<TopicPartition>& partitions);
  // Moves the fetch position of an assigned partition (e.g. back to a job whose commit failed).
  void seek(const TopicPartition& tp, int64_t offset);
  // This member's id in the group; it changes when the group dropped the member (e.g. after a session timeout)
  // and it joined again. Thread-safe.
  std::string memberId() const;
  // The group's committed offset of a partition (the next offset to read), or -1 when none. Only stable
  // (committed-transaction) offsets are returned. Thread-safe; throws Error.
  int64_t committedOffset(const TopicPartition& tp, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Leaves the group (revoking everything through the listener).
  void close();

 private:
  friend class TransactionalProducer;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A consumer with manually assigned partitions and caller-chosen start offsets (no group, no commits):
// for a reader that keeps its positions itself, such as the aggregator. read_committed. One thread.
class PartitionReader {
 public:
  // health: when set, reported to every few seconds while poll() is called.
  explicit PartitionReader(const ClientSettings& settings, ClientHealth* health = nullptr);
  ~PartitionReader();
  PartitionReader(const PartitionReader&) = delete;
  PartitionReader& operator=(const PartitionReader&) = delete;

  // Starts reading each partition at the given offset; kBeginning starts at the earliest offset kept.
  static constexpr int64_t kBeginning = -2;
  void assign(const std::map<TopicPartition, int64_t>& start);
  std::optional<Message> poll(std::chrono::milliseconds timeout);
  // The partition's end: the offset the next record written will get (high watermark). Throws Error.
  int64_t endOffset(const TopicPartition& tp, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace testfleet::kafka
