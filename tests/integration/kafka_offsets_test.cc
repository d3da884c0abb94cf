// Against the real local broker: where a worker's GroupConsumer starts an assigned partition.
//
// The case below is what chaos runs met after a worker was SIGKILLed in the middle of a transaction: the group's
// offsets are committed at 5, a transaction holding offset 8 is still open, and a second member joins while the
// first one waits for the offsets to become stable. librdkafka 2.0.2 then starts the partitions the first member
// keeps through the cooperative rebalance without an offset, and with auto.offset.reset=earliest they ran again
// from 0. The raw librdkafka producer here plays the worker that died with its transaction open.
#include <doctest/doctest.h>
#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka.h"

namespace {

using namespace std::chrono_literals;
using testfleet::kafka::GroupConsumer;
using testfleet::kafka::TopicPartition;

constexpr int kPartitions = 6;
constexpr int kRecords = 10;   // per partition
constexpr int kCommitted = 5;  // the group's stable offset on every partition
constexpr int kPending = 8;    // held by the open transaction, which the broker aborts after its timeout

std::string brokers() {
  const char* b = std::getenv("TESTFLEET_BROKERS");
  return b ? b : "127.0.0.1:19092";
}

std::unique_ptr<RdKafka::Conf> conf() {
  std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  c->set("bootstrap.servers", brokers(), err);
  return c;
}

void check(RdKafka::Error* e, const char* what) {
  if (e) FAIL(what << ": " << e->str());
}

std::vector<RdKafka::TopicPartition*> everyPartition(const std::string& topic, int64_t offset) {
  std::vector<RdKafka::TopicPartition*> v;
  for (int p = 0; p < kPartitions; ++p) v.push_back(RdKafka::TopicPartition::create(topic, p, offset));
  return v;
}

void produceRecords(const std::string& topic) {
  std::string err;
  auto c = conf();
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(c.get(), err));
  REQUIRE_MESSAGE(p, err);
  for (int part = 0; part < kPartitions; ++part) {
    for (int i = 0; i < kRecords; ++i) {
      std::string value = "job " + std::to_string(i);
      REQUIRE(p->produce(topic, part, RdKafka::Producer::RK_MSG_COPY, value.data(), value.size(), nullptr, 0, 0,
                         nullptr) == RdKafka::ERR_NO_ERROR);
    }
  }
  REQUIRE(p->flush(30000) == RdKafka::ERR_NO_ERROR);
}

struct Listener : testfleet::kafka::RebalanceListener {
  void onAssigned(const std::vector<TopicPartition>&) override {}
  void onRevoked(const std::vector<TopicPartition>&) override {}
};

// A topic of its own with kRecords records on each partition; its name also names the group.
struct Fixture {
  explicit Fixture(const std::string& prefix) {
    std::mt19937_64 rng(std::random_device{}());
    id = prefix + std::to_string(getpid()) + "-" + std::to_string(rng() % 1000000);
    topic = id + ".jobs";
    settings.brokers = brokers();
    settings.client_id = id;
    testfleet::kafka::ensureTopics(settings, {{topic, kPartitions, false}});
    produceRecords(topic);
  }
  std::string id, topic;
  testfleet::kafka::ClientSettings settings;
};

// Every offset read, per partition (by any member).
using Reads = std::map<int, std::vector<int64_t>>;

void pollInto(GroupConsumer& c, Reads& reads) {
  if (auto m = c.poll(20ms)) reads[m->tp.partition].push_back(m->offset);
}

// Whether every partition has been read up to its last record.
bool readToEnd(const Reads& reads) {
  if (reads.size() < static_cast<size_t>(kPartitions)) return false;
  for (const auto& [partition, offsets] : reads) {
    if (offsets.empty() || offsets.back() != kRecords - 1) return false;
  }
  return true;
}

// Each partition read once, from `from` to its last record: nothing before, nothing twice, no gap.
void checkReadFrom(const Reads& reads, int64_t from) {
  CHECK(reads.size() == kPartitions);
  std::vector<int64_t> expected;
  for (int64_t o = from; o < kRecords; ++o) expected.push_back(o);
  for (const auto& [partition, offsets] : reads) {
    INFO("partition " << partition);
    CHECK(offsets == expected);
  }
}

}  // namespace

TEST_CASE(
    "a partition kept through a rebalance while its offsets wait on an open transaction starts at the "
    "committed offset, not at 0") {
  const Fixture f("it-offsets-");
  const std::string& id = f.id;
  const std::string& topic = f.topic;

  // The group's committed offset 5, then a transaction with offset 8 that is never ended.
  std::string err;
  auto pc = conf();
  pc->set("transactional.id", id + "-dead-worker", err);
  pc->set("transaction.timeout.ms", "15000", err);
  std::unique_ptr<RdKafka::Producer> dead(RdKafka::Producer::create(pc.get(), err));
  REQUIRE_MESSAGE(dead, err);
  check(dead->init_transactions(30000), "init_transactions");
  // The group's metadata from a consumer that never joins (generation -1): offsets are sent for the group alone.
  auto gc = conf();
  gc->set("group.id", id, err);
  std::unique_ptr<RdKafka::KafkaConsumer> outsider(RdKafka::KafkaConsumer::create(gc.get(), err));
  REQUIRE_MESSAGE(outsider, err);
  std::unique_ptr<RdKafka::ConsumerGroupMetadata> group(outsider->groupMetadata());
  check(dead->begin_transaction(), "begin");
  auto committed = everyPartition(topic, kCommitted);
  check(dead->send_offsets_to_transaction(committed, group.get(), 30000), "send offsets");
  check(dead->commit_transaction(30000), "commit");
  RdKafka::TopicPartition::destroy(committed);
  check(dead->begin_transaction(), "begin");
  auto pending = everyPartition(topic, kPending);
  check(dead->send_offsets_to_transaction(pending, group.get(), 30000), "send offsets");
  RdKafka::TopicPartition::destroy(pending);

  testfleet::kafka::GroupConsumerSettings cs;
  cs.client = f.settings;
  cs.group_id = id;
  cs.topics = {topic};
  Listener l1, l2;
  GroupConsumer first(cs, &l1);
  Reads reads;
  std::unique_ptr<GroupConsumer> second;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 60s && !readToEnd(reads)) {
    // The second member joins while the first still waits for stable offsets: a cooperative rebalance.
    if (!second && std::chrono::steady_clock::now() - start > 4s) second = std::make_unique<GroupConsumer>(cs, &l2);
    pollInto(first, reads);
    if (second) pollInto(*second, reads);
  }
  // From 5 once the broker aborted the open transaction; never from 0.
  checkReadFrom(reads, kCommitted);
}

TEST_CASE("a new group starts every partition at the beginning") {
  const Fixture f("it-fresh-");
  const std::string& id = f.id;
  const std::string& topic = f.topic;
  testfleet::kafka::GroupConsumerSettings cs;
  cs.client = f.settings;
  cs.group_id = id;
  cs.topics = {topic};
  Listener l;
  GroupConsumer c(cs, &l);
  Reads reads;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 30s && !readToEnd(reads)) pollInto(c, reads);
  checkReadFrom(reads, 0);
}
