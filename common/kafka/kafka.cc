#include "common/kafka/kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/kafka/broker_probe.h"

namespace testfleet::kafka {
namespace {

// librdkafka handles owned by unique_ptr with their own deleters.
using ConfPtr = std::unique_ptr<RdKafka::Conf>;

void set(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string err;
  const RdKafka::Conf::ConfResult result = conf.set(key, value, err);
  // An unknown key may be a misspelt secret's (sasl.passwrod): its value is not shown.
  if (result == RdKafka::Conf::CONF_UNKNOWN) throw Error("kafka config " + key + ": " + err, Error::Kind::kOther);
  if (result != RdKafka::Conf::CONF_OK) {
    throw Error("kafka config " + redactResolvedKafkaProperty(key, value) + ": " + err, Error::Kind::kOther);
  }
}

// Last, so an operator's tuning wins over testfleet's defaults (the keys of the delivery contract are refused
// when the options are parsed, common/kafka_properties.cc).
void applyOperatorProperties(RdKafka::Conf& conf, const ClientSettings& s) {
  for (const auto& [key, value] : s.properties) set(conf, key, value);
}

ConfPtr baseConf(const ClientSettings& s) {
  ConfPtr conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  set(*conf, "bootstrap.servers", s.brokers);
  set(*conf, "client.id", s.client_id);
  // TESTFLEET_RDKAFKA_DEBUG=cgrp,eos,... turns on librdkafka's own debug contexts, logged at info.
  const char* debug = std::getenv("TESTFLEET_RDKAFKA_DEBUG");
  set(*conf, "log_level", debug ? "7" : "4");  // warnings and worse
  if (debug) set(*conf, "debug", debug);
  set(*conf, "socket.keepalive.enable", "true");
  return conf;
}

Error toError(const std::string& context, RdKafka::Error* e) {
  std::unique_ptr<RdKafka::Error> owned(e);
  Error::Kind kind = Error::Kind::kOther;
  if (e->is_fatal()) {
    kind = Error::Kind::kFatal;
  } else if (e->txn_requires_abort()) {
    kind = Error::Kind::kAbortable;
  } else if (e->is_retriable()) {
    kind = Error::Kind::kRetriable;
  }
  return Error(context + ": " + e->str(), kind);
}

Error toError(const std::string& context, RdKafka::ErrorCode code) {
  return Error(context + ": " + RdKafka::err2str(code), Error::Kind::kOther);
}

// Logs librdkafka's own messages through spdlog so services have one log format.
class LogBridge : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_LOG) {
      if (verbose_) {
        spdlog::info("rdkafka {}: {}", event.fac(), event.str());
      } else {
        spdlog::debug("rdkafka {}: {}", event.fac(), event.str());
      }
    } else if (event.type() == RdKafka::Event::EVENT_ERROR) {
      // Broker-down and similar errors are retried by librdkafka itself; fatal ones surface through calls.
      spdlog::warn("kafka: {}", event.str());
    }
  }

 private:
  // librdkafka's debug lines are asked for by TESTFLEET_RDKAFKA_DEBUG; the services log at info.
  bool verbose_ = std::getenv("TESTFLEET_RDKAFKA_DEBUG") != nullptr;
};
LogBridge& logBridge() {
  static LogBridge bridge;
  return bridge;
}

// A consumer's events: its statistics become ClientHealth reports, the rest goes to the log. On the polling thread.
class HealthReporter : public RdKafka::EventCb {
 public:
  explicit HealthReporter(ClientHealth* health) : health_(health) {}
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_STATS) return logBridge().event_cb(event);
    if (health_) health_->report(readClientStatistics(event.str(), std::chrono::steady_clock::now()));
  }

 private:
  ClientHealth* health_;
};

// Statistics every 5 s feed the consumer's health (the readiness rule allows 15 s without one).
void reportHealth(RdKafka::Conf& conf, HealthReporter& reporter, bool wanted) {
  std::string err;
  if (wanted) set(conf, "statistics.interval.ms", "5000");
  conf.set("event_cb", static_cast<RdKafka::EventCb*>(&reporter), err);
}

struct CHandleDeleter {
  void operator()(rd_kafka_t* h) const { rd_kafka_destroy(h); }
};
using CHandle = std::unique_ptr<rd_kafka_t, CHandleDeleter>;

CHandle adminHandle(const ClientSettings& s) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto setOrThrow = [&](const std::string& key, const std::string& value) {
    const rd_kafka_conf_res_t result = rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err);
    if (result != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      const std::string shown = result == RD_KAFKA_CONF_UNKNOWN ? key : redactResolvedKafkaProperty(key, value);
      throw Error("kafka config " + shown + ": " + err, Error::Kind::kOther);
    }
  };
  setOrThrow("bootstrap.servers", s.brokers);
  setOrThrow("client.id", s.client_id);
  for (const auto& [key, value] : s.properties) setOrThrow(key, value);
  // Silent: failures surface as errors of the calls, with context, not as raw librdkafka lines on stderr.
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  rd_kafka_t* h = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!h) {
    rd_kafka_conf_destroy(conf);
    throw Error(std::string("kafka client: ") + err, Error::Kind::kOther);
  }
  return CHandle(h);
}

}  // namespace

namespace {

// --no-create-topics: every topic must be there already (and visible to this client).
void checkTopicsExist(rd_kafka_t* h, const ClientSettings& settings, const std::vector<TopicSpec>& topics,
                      std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(h, 1, nullptr, &md, static_cast<int>(timeout.count()));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Error(std::string("no metadata from ") + settings.brokers + ": " + rd_kafka_err2str(e),
                Error::Kind::kRetriable);
  }
  std::set<std::string> present;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) present.insert(md->topics[i].topic);
  }
  rd_kafka_metadata_destroy(md);
  std::string missing;
  for (const auto& t : topics) {
    if (!present.count(t.name)) missing += (missing.empty() ? "" : ", ") + t.name;
  }
  if (!missing.empty()) {
    throw Error("topic(s) " + missing + " missing on " + settings.brokers +
                    " (or not visible to this client: Describe ACL), and --no-create-topics is set: create them "
                    "with `testfleet topics` as a client that may",
                Error::Kind::kPermanent);
  }
}

}  // namespace

std::string propertiesProblem(const KafkaProperties& properties) {
  ConfPtr conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  try {
    for (const auto& [key, value] : properties) set(*conf, key, value);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void ensureTopics(const ClientSettings& settings, const std::vector<TopicSpec>& topics,
                  std::chrono::milliseconds timeout) {
  if (std::string why = unreachableBrokers(settings.brokers, settings.connect_timeout); !why.empty()) {
    throw Error("cannot reach Kafka at " + settings.brokers + ": " + why, Error::Kind::kRetriable);
  }
  CHandle h = adminHandle(settings);
  const TopicCreation& creation = settings.topic_creation;
  if (!creation.create) return checkTopicsExist(h.get(), settings, topics, timeout);
  std::vector<rd_kafka_NewTopic_t*> specs;
  char err[512];
  for (const auto& t : topics) {
    auto chosen = creation.partitions.find(t.role);
    const int partitions = t.role.empty() || chosen == creation.partitions.end() ? t.partitions : chosen->second;
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t.name.c_str(), partitions, creation.replication_factor, err, sizeof err);
    if (!nt) throw Error("topic " + t.name + ": " + err, Error::Kind::kOther);
    if (t.compacted) rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    specs.push_back(nt);
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(h.get());
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(h.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, static_cast<int>(timeout.count()), err, sizeof err);
  rd_kafka_CreateTopics(h.get(), specs.data(), specs.size(), opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(timeout.count()) + 5000);
  std::string failure;
  bool refused = false;  // not allowed to create topics
  if (!ev) {
    failure = "no answer from " + settings.brokers + " within " + std::to_string(timeout.count()) + " ms";
  } else if (rd_kafka_event_error(ev)) {
    failure = rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        failure += std::string(rd_kafka_topic_result_name(res[i])) + ": " + rd_kafka_err2str(e) + "; ";
        refused = refused || e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                  e == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED;
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy_array(specs.data(), specs.size());
  if (refused) {
    throw Error("creating topics: " + failure +
                    "this client may not create topics: create them with `testfleet topics` as a client that may, "
                    "and start this one with --no-create-topics",
                Error::Kind::kPermanent);
  }
  if (!failure.empty()) throw Error("creating topics: " + failure, Error::Kind::kRetriable);
}

int partitionCount(const ClientSettings& settings, const std::string& topic, std::chrono::milliseconds timeout) {
  CHandle h = adminHandle(settings);
  // A topic created a moment ago may not be in the metadata yet: ask again until the deadline.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last_problem;
  do {
    rd_kafka_topic_t* t = rd_kafka_topic_new(h.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(h.get(), 0, t, &md, static_cast<int>(timeout.count()));
    rd_kafka_topic_destroy(t);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_problem = std::string("no metadata from ") + settings.brokers + ": " + rd_kafka_err2str(e);
    } else {
      int count = -1;
      if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) count = md->topics[0].partition_cnt;
      rd_kafka_metadata_destroy(md);
      if (count > 0) return count;
      last_problem = "topic " + topic + " does not exist (create it with `testfleet topics`)";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  throw Error(last_problem, Error::Kind::kRetriable);
}

// ---------------------------------------------------------------------------------------------------------------
// Producer

namespace {
// Remembers the first failed delivery so flush() can report it. Called on librdkafka's poll thread.
// Error codes that mean the same record will be refused again, however often it is sent.
bool isPermanentRefusal(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR_INVALID_REQUIRED_ACKS:
      return true;
    default:
      return false;
  }
}

class DeliveryTracker : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    if (m.err() == RdKafka::ERR_NO_ERROR) return;
    std::lock_guard lock(mu_);
    if (first_error_.empty()) {
      first_error_ = m.topic_name() + ": " + m.errstr();
      first_code_ = m.err();
    }
  }
  std::string takeError() { return take().first; }
  std::pair<std::string, RdKafka::ErrorCode> take() {
    std::lock_guard lock(mu_);
    return {std::exchange(first_error_, {}), std::exchange(first_code_, RdKafka::ERR_NO_ERROR)};
  }

 private:
  std::mutex mu_;  // guards first_error_, first_code_
  std::string first_error_;
  RdKafka::ErrorCode first_code_ = RdKafka::ERR_NO_ERROR;
};

std::unique_ptr<RdKafka::Producer> makeProducer(RdKafka::Conf& conf) {
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(&conf, err));
  if (!p) throw Error("kafka producer: " + err, Error::Kind::kOther);
  return p;
}

void produce(RdKafka::Producer& p, const OutgoingRecord& r) {
  for (;;) {
    RdKafka::ErrorCode e =
        p.produce(r.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                  const_cast<char*>(r.payload.data()), r.payload.size(), r.key.data(), r.key.size(), 0, nullptr);
    if (e == RdKafka::ERR_NO_ERROR) return;
    if (e == RdKafka::ERR__QUEUE_FULL) {
      p.poll(100);
      continue;
    }
    Error failure = toError("producing to " + r.topic + " (" + std::to_string(r.payload.size()) + " bytes)", e);
    throw isPermanentRefusal(e) ? Error(failure.what(), Error::Kind::kPermanent) : failure;
  }
}
}  // namespace

struct Producer::Impl {
  DeliveryTracker tracker;
  std::unique_ptr<RdKafka::Producer> handle;
};

Producer::Producer(const ClientSettings& settings) : impl_(std::make_unique<Impl>()) {
  ConfPtr conf = baseConf(settings);
  set(*conf, "enable.idempotence", "true");
  set(*conf, "linger.ms", "5");
  set(*conf, "message.max.bytes", std::to_string(8 << 20));
  std::string err;
  applyOperatorProperties(*conf, settings);
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&impl_->tracker), err);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(&logBridge()), err);
  impl_->handle = makeProducer(*conf);
}

Producer::~Producer() {
  if (impl_ && impl_->handle) impl_->handle->flush(5000);
}

void Producer::send(const OutgoingRecord& record) {
  produce(*impl_->handle, record);
  impl_->handle->poll(0);
}

void Producer::flush(std::chrono::milliseconds timeout) {
  RdKafka::ErrorCode e = impl_->handle->flush(static_cast<int>(timeout.count()));
  if (e != RdKafka::ERR_NO_ERROR) throw toError("flush", e);
  if (std::string failed = impl_->tracker.takeError(); !failed.empty()) {
    throw Error("delivery failed: " + failed, Error::Kind::kRetriable);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// GroupConsumer

namespace {
std::vector<RdKafka::TopicPartition*> toRd(const std::vector<TopicPartition>& tps) {
  std::vector<RdKafka::TopicPartition*> out;
  out.reserve(tps.size());
  for (const auto& tp : tps) out.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition));
  return out;
}
void destroy(std::vector<RdKafka::TopicPartition*>& tps) {
  RdKafka::TopicPartition::destroy(tps);
  tps.clear();
}
std::vector<TopicPartition> fromRd(const std::vector<RdKafka::TopicPartition*>& tps) {
  std::vector<TopicPartition> out;
  out.reserve(tps.size());
  for (auto* tp : tps) out.push_back({tp->topic(), tp->partition()});
  return out;
}
std::optional<Message> toMessage(RdKafka::Message* raw) {
  std::unique_ptr<RdKafka::Message> m(raw);
  switch (m->err()) {
    case RdKafka::ERR_NO_ERROR: {
      Message out;
      out.tp = {m->topic_name(), m->partition()};
      out.offset = m->offset();
      out.timestamp_ms =
          m->timestamp().type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE ? -1 : m->timestamp().timestamp;
      if (m->key()) out.key = *m->key();
      out.payload.assign(static_cast<const char*>(m->payload()), m->len());
      return out;
    }
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__PARTITION_EOF:
      return std::nullopt;
    default:
      if (m->err() == RdKafka::ERR__FATAL) throw Error("kafka consumer: " + m->errstr(), Error::Kind::kFatal);
      spdlog::warn("kafka consumer: {}", m->errstr());
      return std::nullopt;
  }
}
}  // namespace

namespace {

// Where an assigned partition starts. librdkafka 2.0.2 fetches the group's committed offsets itself, but when that
// fetch waits on an open transaction (UNSTABLE_OFFSET_COMMIT, e.g. a SIGKILLed worker's) and a cooperative rebalance
// comes meanwhile, it starts the partitions it kept without an offset: with auto.offset.reset=earliest they would
// run again from offset 0 (seen in chaos runs; reproduced by tests/integration/kafka_offsets_test.cc). So the reset
// policy is "error", and a partition that reports ERR__AUTO_OFFSET_RESET is started here: at the committed offset
// once the group answers with a stable one, at the beginning when it has none, and at the earliest offset when the
// committed one has left the log.
class PartitionStarter {
 public:
  void failed(const TopicPartition& tp, const std::string& why) {
    spdlog::debug("{}[{}] has no start offset ({}); asking the group for its committed one", tp.topic, tp.partition,
                  why);
    waiting_[tp] = Waiting{};
  }
  void forget(const TopicPartition& tp) { waiting_.erase(tp); }
  bool waiting() const { return !waiting_.empty(); }
  // Asks the group for the committed offsets of the partitions due. `settle` then serves what the consumer has
  // queued (a rebalance callback above all, so a revoke is not answered by the restart's own unassign), right
  // before the restart.
  void startDue(RdKafka::KafkaConsumer& c, const std::set<TopicPartition>& paused, const std::function<void()>& settle);

 private:
  struct Waiting {
    std::chrono::steady_clock::time_point due{};
    bool unassigned = false;  // the restart's unassign went through, its assign did not
  };
  void restart(RdKafka::KafkaConsumer& c, const TopicPartition& tp, int64_t committed,
               const std::set<TopicPartition>& paused);
  std::map<TopicPartition, Waiting> waiting_;
};

bool assigned(RdKafka::KafkaConsumer& c, const TopicPartition& tp) {
  std::vector<RdKafka::TopicPartition*> now;
  if (c.assignment(now) != RdKafka::ERR_NO_ERROR) return false;
  bool found = false;
  for (auto* p : now) found = found || (p->topic() == tp.topic && p->partition() == tp.partition);
  RdKafka::TopicPartition::destroy(now);
  return found;
}

void PartitionStarter::startDue(RdKafka::KafkaConsumer& c, const std::set<TopicPartition>& paused,
                                const std::function<void()>& settle) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<TopicPartition> due;
  for (const auto& [tp, w] : waiting_) {
    if (w.due <= now) due.push_back(tp);
  }
  if (due.empty()) return;
  auto rd = toRd(due);
  // Short: the poll loop waits meanwhile. An offset held by an open transaction answers only when that ends.
  const RdKafka::ErrorCode code = c.committed(rd, 500);
  std::map<TopicPartition, int64_t> answered;
  for (RdKafka::TopicPartition* p : rd) {
    const TopicPartition tp{p->topic(), p->partition()};
    if (code != RdKafka::ERR_NO_ERROR || p->err() != RdKafka::ERR_NO_ERROR) {
      waiting_[tp].due = now + std::chrono::seconds(1);
    } else {
      answered[tp] = p->offset();
    }
  }
  destroy(rd);
  if (answered.empty()) return;
  settle();  // may revoke some of them: forget() takes those out of waiting_
  for (const auto& [tp, committed] : answered) {
    if (waiting_.count(tp)) restart(c, tp, committed, paused);
  }
}

// Starts tp at its committed offset, kept within the log: below the log's start the first record that still exists,
// past its end the end (offsets there will be given to new records). Never past a record that exists and was not
// committed, so no job is skipped.
void PartitionStarter::restart(RdKafka::KafkaConsumer& c, const TopicPartition& tp, int64_t committed,
                               const std::set<TopicPartition>& paused) {
  Waiting& w = waiting_[tp];
  if (!w.unassigned && !assigned(c, tp)) {  // an error that came after its revoke
    waiting_.erase(tp);
    return;
  }
  int64_t start = RdKafka::Topic::OFFSET_BEGINNING;
  if (committed >= 0) {
    int64_t low = 0, high = 0;
    if (c.query_watermark_offsets(tp.topic, tp.partition, &low, &high, 500) != RdKafka::ERR_NO_ERROR) {
      w.due = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      return;
    }
    start = std::clamp(committed, low, high);
    if (start != committed) {
      spdlog::warn("{}[{}]: committed offset {} is outside the log [{}, {}]; starting at {}", tp.topic, tp.partition,
                   committed, low, high, start);
    }
  }
  std::vector<RdKafka::TopicPartition*> one{RdKafka::TopicPartition::create(tp.topic, tp.partition, start)};
  RdKafka::Error* out = w.unassigned ? nullptr : c.incremental_unassign(one);
  RdKafka::Error* in = out ? nullptr : c.incremental_assign(one);
  if (out || in) {
    spdlog::error("{}[{}]: restart failed: {}", tp.topic, tp.partition, toError("assign", out ? out : in).what());
    w.unassigned = !out;
    w.due = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  } else {
    if (paused.count(tp)) c.pause(one);
    spdlog::info("{}[{}] starts at {}", tp.topic, tp.partition,
                 start >= 0 ? "offset " + std::to_string(start) : std::string("the beginning"));
    waiting_.erase(tp);
  }
  RdKafka::TopicPartition::destroy(one);
}

}  // namespace

struct GroupConsumer::Impl : public RdKafka::RebalanceCb {
  RebalanceListener* listener = nullptr;
  std::unique_ptr<RdKafka::KafkaConsumer> handle;
  bool closed = false;
  PartitionStarter starter;
  std::set<TopicPartition> paused;  // as the owner asked, to pause again a partition started here
  std::deque<Message> early;        // records consumed while partitions were restarted, for the next polls
  // Held shared by a commit from its still_ours question through send_offsets_to_transaction; a revoke takes it
  // alone after telling the listener (which marks the partition's jobs cancelled) and before unassigning.
  std::shared_mutex assignment_gate;
  std::unique_ptr<HealthReporter> reporter;

  // One consume(): a record, or nothing (a timeout, an end of partition, a partition librdkafka could not start —
  // left to the starter — or a logged error); throws Error when the consumer failed for good.
  std::optional<Message> consume(int timeout_ms) {
    for (;;) {
      std::unique_ptr<RdKafka::Message> m(handle->consume(timeout_ms));
      if (m->err() == RdKafka::ERR__AUTO_OFFSET_RESET) {
        starter.failed({m->topic_name(), m->partition()}, m->errstr());
        if (timeout_ms == 0) continue;
        return std::nullopt;
      }
      const bool nothing = m->err() == RdKafka::ERR__TIMED_OUT;
      std::optional<Message> out = toMessage(m.release());
      if (out || timeout_ms != 0 || nothing) return out;
    }
  }

  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    const bool cooperative = c->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      for (const auto& tp : fromRd(parts)) starter.forget(tp);
      if (cooperative) {
        if (RdKafka::Error* e = c->incremental_assign(parts)) spdlog::error("assign: {}", toError("assign", e).what());
      } else {
        c->assign(parts);
      }
      // An assigned partition starts unpaused, as the owner and `paused` expect after its revoke: librdkafka 2.0.2
      // keeps a pause across unassign and assign, so a partition revoked while paused and assigned to this consumer
      // again (a group coordinator that died takes the members' assignments with it) was never fetched again.
      c->resume(parts);
      if (listener) listener->onAssigned(fromRd(parts));
    } else {
      for (const auto& tp : fromRd(parts)) {
        starter.forget(tp);
        paused.erase(tp);
      }
      if (listener) listener->onRevoked(fromRd(parts));
      { std::unique_lock settled(assignment_gate); }  // commits that asked still_ours before the revoke are sent
      if (cooperative) {
        if (RdKafka::Error* e = c->incremental_unassign(parts)) {
          spdlog::error("unassign: {}", toError("unassign", e).what());
        }
      } else {
        c->unassign();
      }
    }
  }
};

GroupConsumer::GroupConsumer(const GroupConsumerSettings& s, RebalanceListener* listener)
    : impl_(std::make_unique<Impl>()) {
  impl_->listener = listener;
  ConfPtr conf = baseConf(s.client);
  set(*conf, "group.id", s.group_id);
  set(*conf, "enable.auto.commit", "false");
  set(*conf, "enable.auto.offset.store", "false");
  set(*conf, "auto.offset.reset", "error");  // see PartitionStarter
  set(*conf, "isolation.level", "read_committed");
  set(*conf, "partition.assignment.strategy", "cooperative-sticky");
  set(*conf, "session.timeout.ms", std::to_string(s.session_timeout.count()));
  set(*conf, "heartbeat.interval.ms", std::to_string(std::max<long>(s.session_timeout.count() / 5, 100)));
  set(*conf, "max.poll.interval.ms", std::to_string(s.max_poll_interval.count()));
  // Small prefetch: a worker takes one job per free slot, the rest belongs to other workers.
  set(*conf, "queued.max.messages.kbytes", "1024");
  // A resumed partition should deliver its next job at once, not after the default 500 ms fetch wait.
  set(*conf, "fetch.wait.max.ms", "20");
  set(*conf, "fetch.error.backoff.ms", "10");
  set(*conf, "fetch.message.max.bytes", std::to_string(8 << 20));
  impl_->reporter = std::make_unique<HealthReporter>(s.health);
  reportHealth(*conf, *impl_->reporter, s.health != nullptr);
  applyOperatorProperties(*conf, s.client);
  std::string err;
  conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(impl_.get()), err);
  impl_->handle.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl_->handle) throw Error("kafka consumer: " + err, Error::Kind::kOther);
  RdKafka::ErrorCode e = impl_->handle->subscribe(s.topics);
  if (e != RdKafka::ERR_NO_ERROR) throw toError("subscribe", e);
}

GroupConsumer::~GroupConsumer() { close(); }

std::optional<Message> GroupConsumer::poll(std::chrono::milliseconds timeout) {
  if (!impl_->early.empty()) {
    Message m = std::move(impl_->early.front());
    impl_->early.pop_front();
    return m;
  }
  std::optional<Message> m = impl_->consume(static_cast<int>(timeout.count()));
  if (m || !impl_->starter.waiting()) return m;
  // Nothing queued right now: the moment to restart partitions librdkafka could not start. What arrives while the
  // group is asked is served first (records kept for the next polls).
  impl_->starter.startDue(*impl_->handle, impl_->paused, [this] {
    while (std::optional<Message> served = impl_->consume(0)) impl_->early.push_back(std::move(*served));
  });
  return std::nullopt;
}

void GroupConsumer::pause(const std::vector<TopicPartition>& partitions) {
  impl_->paused.insert(partitions.begin(), partitions.end());
  auto rd = toRd(partitions);
  impl_->handle->pause(rd);
  destroy(rd);
}

void GroupConsumer::resume(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions) impl_->paused.erase(tp);
  auto rd = toRd(partitions);
  impl_->handle->resume(rd);
  destroy(rd);
}

void GroupConsumer::seek(const TopicPartition& tp, int64_t offset) {
  std::unique_ptr<RdKafka::TopicPartition> rd(RdKafka::TopicPartition::create(tp.topic, tp.partition, offset));
  RdKafka::ErrorCode e = impl_->handle->seek(*rd, 5000);
  if (e != RdKafka::ERR_NO_ERROR)
    spdlog::warn("seek {}[{}] to {}: {}", tp.topic, tp.partition, offset, RdKafka::err2str(e));
}

std::string GroupConsumer::memberId() const { return impl_->handle->memberid(); }

int64_t GroupConsumer::committedOffset(const TopicPartition& tp, std::chrono::milliseconds timeout) {
  std::vector<RdKafka::TopicPartition*> one{RdKafka::TopicPartition::create(tp.topic, tp.partition)};
  RdKafka::ErrorCode code = impl_->handle->committed(one, static_cast<int>(timeout.count()));
  const int64_t offset = one[0]->offset();
  const RdKafka::ErrorCode own = one[0]->err();
  RdKafka::TopicPartition::destroy(one);
  if (code != RdKafka::ERR_NO_ERROR) throw toError("committed offsets of " + tp.topic, code);
  if (own != RdKafka::ERR_NO_ERROR) throw toError("committed offset of " + tp.topic, own);
  return offset < 0 ? -1 : offset;
}

void GroupConsumer::close() {
  if (impl_ && impl_->handle && !impl_->closed) {
    impl_->closed = true;
    impl_->handle->close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// TransactionalProducer

struct TransactionalProducer::Impl {
  std::mutex mu;  // one transaction at a time; guards handle
  DeliveryTracker tracker;
  std::unique_ptr<RdKafka::Producer> handle;
  ClientSettings settings;
  std::string transactional_id;

  void connect();
};

TransactionalProducer::TransactionalProducer(const ClientSettings& settings, const std::string& transactional_id)
    : impl_(std::make_unique<Impl>()) {
  impl_->settings = settings;
  impl_->transactional_id = transactional_id;
  impl_->connect();
}

// Builds the producer and fences earlier ones with the same transactional id.
void TransactionalProducer::Impl::connect() {
  handle.reset();
  ConfPtr conf = baseConf(settings);
  set(*conf, "transactional.id", transactional_id);
  // Our transactions stay open only for the produce and commit (milliseconds, seconds on a loaded machine: commits
  // of 15 s were seen at a load average of 20 on 2 cores). The timeout bounds how long a SIGKILLed worker's open
  // transaction holds back read_committed readers (the aggregator) when no restart with the same id fences it.
  set(*conf, "transaction.timeout.ms", "30000");
  // The broker answers CONCURRENT_TRANSACTIONS while the previous commit finishes; retry that quickly.
  set(*conf, "retry.backoff.ms", "10");
  set(*conf, "linger.ms", "1");
  set(*conf, "message.max.bytes", std::to_string(8 << 20));
  applyOperatorProperties(*conf, settings);
  std::string err;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&tracker), err);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(&logBridge()), err);
  handle = makeProducer(*conf);
  // Fences any earlier producer with the same id (a killed predecessor) and aborts its open transaction.
  for (int attempt = 1;; ++attempt) {
    RdKafka::Error* e = handle->init_transactions(30000);
    if (!e) break;
    Error failure = toError("init_transactions", e);
    if (!failure.isRetriable() || attempt >= 5) throw failure;
    spdlog::info("init_transactions: {}; retrying", failure.what());
  }
}

TransactionalProducer::~TransactionalProducer() = default;

bool TransactionalProducer::commit(const std::vector<OutgoingRecord>& records,
                                   const std::map<TopicPartition, int64_t>& offsets, GroupConsumer& consumer,
                                   const std::function<bool()>& still_ours) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->handle) impl_->connect();  // an earlier fatal error left no producer
  RdKafka::Producer& p = *impl_->handle;
  // Rebuilds the producer after a fatal error; a new producer's init_transactions fences the old one and completes
  // or aborts its pending transaction. Returns the error for the caller, of `kind` when the rebuild worked.
  auto rebuildAfter = [&](const Error& failure, Error::Kind kind) -> Error {
    spdlog::warn("transactional producer must be rebuilt: {}", failure.what());
    try {
      impl_->connect();
    } catch (const Error& rebuild) {
      impl_->handle.reset();
      return Error(std::string(failure.what()) + "; rebuilding failed: " + rebuild.what(), Error::Kind::kFatal);
    }
    return Error(failure.what(), kind);
  };
  // Before the commit was asked for: nothing can have been written.
  auto abortWith = [&](const Error& failure) -> Error {
    if (failure.isFatal()) return rebuildAfter(failure, Error::Kind::kAbortable);
    if (RdKafka::Error* e = p.abort_transaction(30000)) {
      Error abort_failure = toError("abort_transaction", e);
      if (abort_failure.isFatal()) return rebuildAfter(abort_failure, Error::Kind::kAbortable);
      // The abort's outcome is unknown; a rebuilt producer settles it, and nothing of ours was committed.
      return rebuildAfter(abort_failure, Error::Kind::kAbortable);
    }
    auto [delivery, code] = impl_->tracker.take();
    if (failure.isPermanent() || isPermanentRefusal(code)) {
      return Error(std::string(failure.what()) + (delivery.empty() ? "" : " (" + delivery + ")"),
                   Error::Kind::kPermanent);
    }
    return Error(failure.what(), Error::Kind::kAbortable);
  };
  if (RdKafka::Error* e = p.begin_transaction()) throw abortWith(toError("begin_transaction", e));
  try {
    for (const auto& r : records) produce(p, r);
  } catch (const Error& e) {
    throw abortWith(e);
  }
  if (!offsets.empty()) {
    std::shared_lock steady(consumer.impl_->assignment_gate);
    if (still_ours && !still_ours()) {
      steady.unlock();
      if (RdKafka::Error* e = p.abort_transaction(30000)) {
        throw rebuildAfter(toError("abort_transaction", e), Error::Kind::kAbortable);
      }
      impl_->tracker.take();
      return false;
    }
    std::vector<RdKafka::TopicPartition*> rd;
    rd.reserve(offsets.size());
    for (const auto& [tp, off] : offsets) rd.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition, off));
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> md(consumer.impl_->handle->groupMetadata());
    RdKafka::Error* e = p.send_offsets_to_transaction(rd, md.get(), 30000);
    RdKafka::TopicPartition::destroy(rd);
    steady.unlock();
    if (e) throw abortWith(toError("send_offsets_to_transaction", e));
  }
  // The commit: a retriable error leaves the outcome unknown, and the same call is made again until it answers.
  constexpr int kCommitTries = 10;
  for (int attempt = 1;; ++attempt) {
    RdKafka::Error* e = p.commit_transaction(60000);
    if (!e) break;
    Error failure = toError("commit_transaction", e);
    if (failure.kind() == Error::Kind::kAbortable) throw abortWith(failure);
    if (failure.isRetriable() && attempt < kCommitTries) {
      spdlog::warn("{} (try {} of {}); asking again", failure.what(), attempt, kCommitTries);
      continue;
    }
    throw rebuildAfter(failure, Error::Kind::kUnknownOutcome);
  }
  if (std::string failed = impl_->tracker.takeError(); !failed.empty()) {
    // commit_transaction succeeded, so every record was delivered; a report here would be a librdkafka bug.
    spdlog::warn("delivery report after committed transaction: {}", failed);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// PartitionReader

struct PartitionReader::Impl {
  explicit Impl(ClientHealth* health) : reporter(health) {}
  HealthReporter reporter;
  std::unique_ptr<RdKafka::KafkaConsumer> handle;
};

PartitionReader::PartitionReader(const ClientSettings& settings, ClientHealth* health)
    : impl_(std::make_unique<Impl>(health)) {
  ConfPtr conf = baseConf(settings);
  // A group id is required by the KafkaConsumer API; it is never joined (assign only) nor committed to.
  set(*conf, "group.id", settings.client_id + "-reader");
  // The reader's owner consumes as fast as it fetches; a small prefetch bounds librdkafka's buffers (the default
  // allows 64 MiB per instance).
  set(*conf, "queued.max.messages.kbytes", "4096");
  set(*conf, "enable.auto.commit", "false");
  set(*conf, "enable.auto.offset.store", "false");
  set(*conf, "isolation.level", "read_committed");
  set(*conf, "auto.offset.reset", "earliest");
  set(*conf, "fetch.message.max.bytes", std::to_string(8 << 20));
  reportHealth(*conf, impl_->reporter, health != nullptr);
  applyOperatorProperties(*conf, settings);
  std::string err;
  impl_->handle.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!impl_->handle) throw Error("kafka reader: " + err, Error::Kind::kOther);
}

PartitionReader::~PartitionReader() {
  if (impl_ && impl_->handle) impl_->handle->close();
}

void PartitionReader::assign(const std::map<TopicPartition, int64_t>& start) {
  std::vector<RdKafka::TopicPartition*> rd;
  rd.reserve(start.size());
  for (const auto& [tp, off] : start) {
    rd.push_back(RdKafka::TopicPartition::create(tp.topic, tp.partition,
                                                 off == kBeginning ? RdKafka::Topic::OFFSET_BEGINNING : off));
  }
  RdKafka::ErrorCode e = impl_->handle->assign(rd);
  RdKafka::TopicPartition::destroy(rd);
  if (e != RdKafka::ERR_NO_ERROR) throw toError("assign", e);
}

std::optional<Message> PartitionReader::poll(std::chrono::milliseconds timeout) {
  return toMessage(impl_->handle->consume(static_cast<int>(timeout.count())));
}

int64_t PartitionReader::endOffset(const TopicPartition& tp, std::chrono::milliseconds timeout) {
  int64_t low = 0, high = 0;
  RdKafka::ErrorCode e =
      impl_->handle->query_watermark_offsets(tp.topic, tp.partition, &low, &high, static_cast<int>(timeout.count()));
  if (e != RdKafka::ERR_NO_ERROR) throw toError("watermarks of " + tp.topic, e);
  return high;
}

}  // namespace testfleet::kafka
