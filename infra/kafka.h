#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "domain/envelope.h"
#include "domain/position.h"
#include "domain/result.h"
#include "infra/tls.h"

struct rd_kafka_s;

namespace tidemark::infra {

/// A Kafka client that cannot be created (bad configuration); not retryable.
class KafkaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Appends records to Kafka with idempotence and acks=all. Every append reports once, on the
/// producer's delivery thread: the position the broker acknowledged, or `unavailable` when the
/// broker did not acknowledge within `delivery_timeout_ms`. An unavailable append may still
/// reach the log later (its acknowledgement was what went missing): callers answer "unknown
/// outcome, retry" and retries carry idempotency keys.
class EventProducer {
 public:
  struct Options {
    std::string bootstrap_servers;
    std::string client_id = "tidemark";
    std::int64_t delivery_timeout_ms = 5000;
    KafkaSecurity security{};
  };
  using Callback = std::function<void(domain::Result<domain::Position>)>;

  explicit EventProducer(Options options);
  ~EventProducer();
  EventProducer(const EventProducer&) = delete;
  EventProducer& operator=(const EventProducer&) = delete;

  /// Queues one record; `callback` must not block (it runs on the delivery thread).
  void append(const std::string& topic, const std::string& key, const std::string& value,
              const domain::Headers& headers, Callback callback);
  void append(const std::string& topic, const domain::EventEnvelope& envelope, Callback callback);
  /// Blocks until the append is acknowledged or fails: for tools and the projector's DLQ.
  domain::Result<domain::Position> append_and_wait(const std::string& topic, const std::string& key,
                                                   const std::string& value,
                                                   const domain::Headers& headers);
  /// True when every queued record was delivered or failed within the time.
  bool flush(std::chrono::milliseconds timeout);

  /// Fetches cluster metadata: true when a broker answered within the time.
  bool reachable(std::chrono::milliseconds timeout);
  /// Log-end offset of each partition of `topic`, or nullopt when the broker did not answer.
  std::optional<std::map<std::int32_t, std::int64_t>> end_offsets(
      const std::string& topic, std::chrono::milliseconds timeout);

 private:
  void poll_loop();
  /// Reports `unavailable` for appends past their deadline: librdkafka holds a record that is
  /// in flight to a vanished broker until its connection gives up, well past the timeout.
  void expire_overdue();

 public:
  /// One append's report, given once: by the delivery callback or by the deadline.
  struct PendingAppend {
    std::mutex mutex;
    bool reported = false;
    Callback callback;
    std::chrono::steady_clock::time_point deadline;
    void report(domain::Result<domain::Position> result);
  };

 private:
  rd_kafka_s* handle_ = nullptr;
  std::chrono::milliseconds delivery_timeout_;
  std::mutex pending_mutex_;
  std::vector<std::weak_ptr<PendingAppend>> pending_;
  std::atomic<bool> stopping_{false};
  std::thread poller_;
};

/// One record as consumed.
struct ConsumedRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  domain::Headers headers;
  /// When the event happened: its CloudEvents time, else when the producer created the record.
  std::int64_t timestamp_us = 0;
};

/// How long a consumer lets the broker hold a fetch that finds nothing new. The embedded broker
/// holds it this long even when records arrive meanwhile, so on the request path it bounds each
/// hop's delay (librdkafka's default, 500 ms, would add that much to projected writes).
inline constexpr std::chrono::milliseconds kFetchWait{10};

/// A member of a consumer group whose positions live outside Kafka: when partitions are
/// assigned, `starting_offsets` says where to resume each one (absent: from the beginning).
/// Rebalances happen only inside `poll`, so a caller never holds records of a partition that
/// was taken away between two polls.
class GroupConsumer {
 public:
  using Assignment = std::vector<std::int32_t>;
  struct Options {
    std::string bootstrap_servers;
    std::string group_id;
    std::string topic;
    std::string client_id = "tidemark";
    std::function<std::map<std::int32_t, std::int64_t>(const Assignment&)> starting_offsets;
    std::function<void(const Assignment&)> on_revoked;
    KafkaSecurity security{};
    /// How long the broker may hold a fetch that finds nothing new (see kFetchWait); a
    /// consumer off the request path waits longer and fetches less, and every fetch costs the
    /// embedded broker a walk along the partition's log (bench/README.md).
    std::chrono::milliseconds fetch_wait = kFetchWait;
  };

  explicit GroupConsumer(Options options);
  ~GroupConsumer();
  GroupConsumer(const GroupConsumer&) = delete;
  GroupConsumer& operator=(const GroupConsumer&) = delete;

  /// The next record, or nullopt when none arrived within `timeout`.
  std::optional<ConsumedRecord> poll(std::chrono::milliseconds timeout);
  /// Moves a partition back to `offset`, for retrying records that were not applied.
  void seek(std::int32_t partition, std::int64_t offset);
  /// Leaves the group so its partitions move to other members at once.
  void close();

  const Options& options() const { return options_; }
  void handle_rebalance(int error, void* partitions);

 private:
  Options options_;
  rd_kafka_s* handle_ = nullptr;
  bool closed_ = false;
};

/// Reads a topic without joining a group: every partition from a start offset up to an end
/// offset (absent start: the beginning), for replays, exports and rebuilds. Positions are the
/// caller's; nothing is committed. Partitions are merged in the order the events happened
/// (their CloudEvents time), so a replay sees events about different aggregates in the order
/// the live projection did: an account's registration before the recordings it then made.
class LogReader {
 public:
  using Offsets = std::map<std::int32_t, std::int64_t>;
  struct Options {
    std::string bootstrap_servers;
    std::string topic;
    std::string client_id = "tidemark-reader";
    KafkaSecurity security{};
  };

  LogReader(Options options, Offsets start, Offsets end);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  /// The next record below the end offsets, or nullopt once every partition reached its end.
  /// Throws KafkaError when the broker sends nothing for `stall_timeout` while records remain.
  std::optional<ConsumedRecord> next(
      std::chrono::milliseconds stall_timeout = std::chrono::seconds(30));
  /// Moves the end forward (a catch-up to records appended since).
  void extend_to(const Offsets& end);
  /// Records left before the end.
  std::int64_t remaining() const;
  const Offsets& position() const { return next_; }

 private:
  void assign();
  /// Throws KafkaError when a partition's first record to read is older than the oldest the
  /// broker still holds.
  void refuse_records_no_longer_held();
  /// Pauses a partition whose buffer is full, resumes it once drained.
  void throttle(std::int32_t partition, bool pause);

  /// Rebuilds lanes_ after end_ gained partitions.
  void index_lanes();

  Options options_;
  Offsets next_;  ///< next offset to hand out, per partition
  Offsets end_;
  std::map<std::int32_t, std::deque<ConsumedRecord>> buffered_;
  std::set<std::int32_t> paused_;
  /// One per partition of end_, in partition order, pointing into next_, end_ and buffered_
  /// (map entries never move): next() looks at every partition for each record, and searching
  /// the maps there took a fifth of a rebuild's CPU over 200 partitions.
  struct Lane {
    std::int32_t partition;
    std::int64_t* next;
    const std::int64_t* end;
    std::deque<ConsumedRecord>* buffer;
  };
  std::vector<Lane> lanes_;
  rd_kafka_s* handle_ = nullptr;
};

/// librdkafka's mock cluster, served on loopback, with the topics created. When `port` is not
/// 0 a forwarder listens there and relays to the mock broker, so clients can bootstrap from a
/// known address (the mock picks its own port; brokers then advertise that one).
///
/// The mock keeps records in memory only. With a `journal` file, every record appended to the
/// topics is also written there as it arrives, and a new broker replays the journal first, so
/// each record gets back its partition and offset: read models that stored positions in an
/// earlier run stay consistent with the log. The journal's topics keep their partitions (noted
/// in `JOURNAL.partitions`) when `partitions` asks for fewer: they can grow, never shrink.
class EmbeddedBroker {
 public:
  struct Options {
    std::uint16_t port = 0;
    std::vector<std::string> topics;
    int partitions = 6;
    std::string journal;  ///< empty: memory only
  };

  explicit EmbeddedBroker(Options options);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  /// The address clients bootstrap from: `127.0.0.1:PORT`.
  std::string bootstrap_servers() const { return bootstrap_servers_; }
  /// Partitions of each topic: `partitions`, or more when the journal's records need more.
  int partitions() const { return partitions_; }
  /// Fault injection for tests: the broker stops answering, then answers again.
  void set_down();
  void set_up();

 private:
  class Forwarder;
  class Journal;
  rd_kafka_s* owner_ = nullptr;
  void* cluster_ = nullptr;
  std::string bootstrap_servers_;
  int partitions_ = 0;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<Journal> journal_;
};

}  // namespace tidemark::infra
