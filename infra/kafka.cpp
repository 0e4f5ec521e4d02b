#include "infra/kafka.h"

#include <arpa/inet.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <list>
#include <mutex>

#include "infra/log.h"
#include "infra/metrics.h"

namespace tidemark::infra {
namespace {

using domain::ErrorKind;
using domain::Position;

void set_option(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw KafkaError(std::string("Kafka option ") + name + ": " + error);
  }
}

/// TLS settings go on every client that talks to a cluster (not on the embedded broker's own).
void set_security(rd_kafka_conf_t* conf, const KafkaSecurity& security) {
  set_option(conf, "security.protocol", security.protocol);
  if (security.protocol != "ssl") return;
  set_option(conf, "ssl.endpoint.identification.algorithm", "https");
  if (!security.ca_file.empty()) set_option(conf, "ssl.ca.location", security.ca_file);
  if (!security.cert_file.empty()) {
    set_option(conf, "ssl.certificate.location", security.cert_file);
  }
  if (!security.key_file.empty()) set_option(conf, "ssl.key.location", security.key_file);
}

rd_kafka_t* create_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  // With Nagle's algorithm on (librdkafka's default), a small request sent while an earlier one
  // is unacknowledged waits for the peer's delayed ACK, up to 40 ms on Linux: measured as acks
  // of the inference worker's outcomes taking 40-50 ms whenever it appended a burst of them.
  set_option(conf, "socket.nagle.disable", "true");
  char error[512];
  rd_kafka_t* handle = rd_kafka_new(type, conf, error, sizeof error);
  if (!handle) {
    rd_kafka_conf_destroy(conf);
    throw KafkaError(std::string("cannot create Kafka client: ") + error);
  }
  return handle;
}

/// librdkafka logs through syslog-style levels; route them to our JSON log.
void log_from_kafka(const rd_kafka_t*, int level, const char* facility, const char* message) {
  LogLevel ours = level <= 3 ? LogLevel::error : level <= 4 ? LogLevel::warning : LogLevel::debug;
  log(ours, message, {{"component", "kafka"}, {"facility", facility}});
}

domain::Headers headers_of(const rd_kafka_message_t* message) {
  domain::Headers result;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return result;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0;
       rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    result.emplace_back(name,
                        value ? std::string(static_cast<const char*>(value), size) : std::string());
  }
  return result;
}

void delivered(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  std::unique_ptr<std::shared_ptr<EventProducer::PendingAppend>> pending(
      static_cast<std::shared_ptr<EventProducer::PendingAppend>*>(message->_private));
  if (!pending) return;
  if (message->err) {
    (*pending)->report(domain::Error{ErrorKind::unavailable,
                                     std::string("the broker did not acknowledge the event: ") +
                                         rd_kafka_err2str(message->err)});
  } else {
    (*pending)->report(Position{message->partition, message->offset});
  }
}

}  // namespace

void EventProducer::PendingAppend::report(domain::Result<domain::Position> result) {
  std::lock_guard lock(mutex);
  if (reported) return;
  reported = true;
  callback(std::move(result));
}

EventProducer::EventProducer(Options options) : delivery_timeout_(options.delivery_timeout_ms) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_option(conf, "bootstrap.servers", options.bootstrap_servers);
  set_option(conf, "client.id", options.client_id);
  set_security(conf, options.security);
  set_option(conf, "enable.idempotence", "true");
  set_option(conf, "acks", "all");
  set_option(conf, "message.timeout.ms", std::to_string(options.delivery_timeout_ms));
  // A record already sent waits for its request to time out, not for message.timeout.ms: with
  // the default 30 s a broker that vanished mid-request held writes far past their timeout.
  set_option(conf, "request.timeout.ms", std::to_string(options.delivery_timeout_ms));
  // A short linger keeps single writes fast while still batching under load.
  set_option(conf, "linger.ms", "1");
  rd_kafka_conf_set_dr_msg_cb(conf, delivered);
  rd_kafka_conf_set_log_cb(conf, log_from_kafka);
  handle_ = create_client(RD_KAFKA_PRODUCER, conf);
  poller_ = std::thread([this] { poll_loop(); });
}

EventProducer::~EventProducer() {
  stopping_ = true;
  poller_.join();
  rd_kafka_flush(handle_, 10000);
  rd_kafka_destroy(handle_);
}

void EventProducer::poll_loop() {
  while (!stopping_) {
    rd_kafka_poll(handle_, 100);
    expire_overdue();
  }
}

void EventProducer::expire_overdue() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<PendingAppend>> overdue;
  {
    std::lock_guard lock(pending_mutex_);
    std::erase_if(pending_, [&](const std::weak_ptr<PendingAppend>& weak) {
      auto pending = weak.lock();
      if (!pending) return true;  // reported and released
      if (pending->deadline > now) return false;
      overdue.push_back(std::move(pending));
      return true;
    });
  }
  for (auto& pending : overdue) {
    pending->report(
        domain::Error{ErrorKind::unavailable, "the broker did not acknowledge the event within " +
                                                  std::to_string(delivery_timeout_.count()) +
                                                  " ms; it may still be recorded"});
  }
}

void EventProducer::append(const std::string& topic, const std::string& key,
                           const std::string& value, const domain::Headers& headers,
                           Callback callback) {
  rd_kafka_headers_t* record_headers = rd_kafka_headers_new(headers.size());
  for (const auto& [name, header_value] : headers) {
    rd_kafka_header_add(record_headers, name.data(), static_cast<ssize_t>(name.size()),
                        header_value.data(), static_cast<ssize_t>(header_value.size()));
  }
  // Produce latency (until the broker's acknowledgement) and failures, per topic.
  auto& metrics = MetricsRegistry::global();
  auto& latency =
      metrics.histogram("tidemark_produce_duration_seconds",
                        "Time from appending a record until the broker acknowledged it (acks=all).",
                        {{"topic", topic}});
  auto& failures = metrics.counter("tidemark_produce_errors_total",
                                   "Appends the broker did not acknowledge.", {{"topic", topic}});
  auto started = std::chrono::steady_clock::now();
  auto pending = std::make_shared<PendingAppend>();
  // A little grace: librdkafka's own report normally comes first, with the broker's reason.
  pending->deadline = started + delivery_timeout_ + std::chrono::milliseconds(250);
  pending->callback = [callback = std::move(callback), started, &latency,
                       &failures](domain::Result<Position> result) {
    if (result) {
      latency.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    } else {
      failures.add();
    }
    callback(std::move(result));
  };
  auto* opaque = new std::shared_ptr<PendingAppend>(pending);
  rd_kafka_resp_err_t error = rd_kafka_producev(
      handle_, RD_KAFKA_V_TOPIC(topic.c_str()),
      RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(record_headers),
      RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
  if (error) {
    // On failure the headers and the report stay ours.
    rd_kafka_headers_destroy(record_headers);
    delete opaque;
    pending->report(domain::Error{
        ErrorKind::unavailable,
        std::string("the event could not be queued for the broker: ") + rd_kafka_err2str(error)});
    return;
  }
  std::lock_guard lock(pending_mutex_);
  pending_.push_back(pending);
}

void EventProducer::append(const std::string& topic, const domain::EventEnvelope& envelope,
                           Callback callback) {
  append(topic, envelope.key, envelope.payload, envelope.headers(), std::move(callback));
}

domain::Result<Position> EventProducer::append_and_wait(const std::string& topic,
                                                        const std::string& key,
                                                        const std::string& value,
                                                        const domain::Headers& headers) {
  auto outcome = std::make_shared<std::promise<domain::Result<Position>>>();
  auto future = outcome->get_future();
  append(topic, key, value, headers,
         [outcome](domain::Result<Position> result) { outcome->set_value(std::move(result)); });
  return future.get();
}

bool EventProducer::flush(std::chrono::milliseconds timeout) {
  return rd_kafka_flush(handle_, static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

bool EventProducer::reachable(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  auto error = rd_kafka_metadata(handle_, 0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (metadata) rd_kafka_metadata_destroy(metadata);
  return error == RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::optional<std::map<std::int32_t, std::int64_t>> EventProducer::end_offsets(
    const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* topic_handle = rd_kafka_topic_new(handle_, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  auto error =
      rd_kafka_metadata(handle_, 0, topic_handle, &metadata, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(topic_handle);
  if (error || !metadata || metadata->topic_cnt != 1 || metadata->topics[0].err) {
    if (metadata) rd_kafka_metadata_destroy(metadata);
    return std::nullopt;
  }
  std::map<std::int32_t, std::int64_t> offsets;
  const auto& topic_metadata = metadata->topics[0];
  for (int i = 0; i < topic_metadata.partition_cnt; ++i) {
    std::int32_t partition = topic_metadata.partitions[i].id;
    std::int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(handle_, topic.c_str(), partition, &low, &high,
                                         static_cast<int>(timeout.count()))) {
      rd_kafka_metadata_destroy(metadata);
      return std::nullopt;
    }
    offsets[partition] = high;
  }
  rd_kafka_metadata_destroy(metadata);
  return offsets;
}

namespace {

void rebalanced(rd_kafka_t*, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* partitions,
                void* opaque) {
  static_cast<GroupConsumer*>(opaque)->handle_rebalance(error, partitions);
}

}  // namespace

GroupConsumer::GroupConsumer(Options options) : options_(std::move(options)) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_option(conf, "bootstrap.servers", options_.bootstrap_servers);
  set_option(conf, "group.id", options_.group_id);
  set_option(conf, "client.id", options_.client_id);
  set_security(conf, options_.security);
  // Positions are stored with the read models, never in Kafka.
  set_option(conf, "enable.auto.commit", "false");
  set_option(conf, "enable.auto.offset.store", "false");
  set_option(conf, "auto.offset.reset", "earliest");
  // A member that died is replaced within seconds rather than the default 45.
  set_option(conf, "session.timeout.ms", "6000");
  set_option(conf, "heartbeat.interval.ms", "1000");
  // librdkafka's mock broker holds an empty fetch for the whole wait even when data arrives
  // (a real broker answers at once), so the default 500 ms became the latency of every
  // projected write in development and tests.
  set_option(conf, "fetch.wait.max.ms", std::to_string(options_.fetch_wait.count()));
  rd_kafka_conf_set_rebalance_cb(conf, rebalanced);
  rd_kafka_conf_set_log_cb(conf, log_from_kafka);
  rd_kafka_conf_set_opaque(conf, this);
  handle_ = create_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(handle_);
  rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subscription, options_.topic.c_str(), RD_KAFKA_PARTITION_UA);
  auto error = rd_kafka_subscribe(handle_, subscription);
  rd_kafka_topic_partition_list_destroy(subscription);
  if (error) {
    rd_kafka_destroy(handle_);
    throw KafkaError(std::string("cannot subscribe to ") + options_.topic + ": " +
                     rd_kafka_err2str(error));
  }
}

GroupConsumer::~GroupConsumer() {
  close();
  rd_kafka_destroy(handle_);
}

void GroupConsumer::close() {
  if (closed_) return;
  closed_ = true;
  rd_kafka_consumer_close(handle_);
}

void GroupConsumer::handle_rebalance(int error, void* opaque_partitions) {
  auto* partitions = static_cast<rd_kafka_topic_partition_list_t*>(opaque_partitions);
  Assignment assignment;
  for (int i = 0; i < partitions->cnt; ++i) assignment.push_back(partitions->elems[i].partition);
  if (error != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (options_.on_revoked) options_.on_revoked(assignment);
    rd_kafka_assign(handle_, nullptr);
    return;
  }
  // This runs inside librdkafka's C code: nothing may propagate, so retry until the store
  // that holds the positions answers (the group evicts us if that takes too long).
  std::map<std::int32_t, std::int64_t> offsets;
  for (int attempt = 1;; ++attempt) {
    try {
      offsets = options_.starting_offsets(assignment);
      break;
    } catch (const std::exception& failure) {
      log_warning("cannot read stored positions; retrying",
                  {{"error", failure.what()}, {"attempt", std::to_string(attempt)}});
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(attempt, 10) * 200));
    }
  }
  for (int i = 0; i < partitions->cnt; ++i) {
    auto stored = offsets.find(partitions->elems[i].partition);
    partitions->elems[i].offset =
        stored == offsets.end() ? RD_KAFKA_OFFSET_BEGINNING : stored->second;
  }
  rd_kafka_assign(handle_, partitions);
  std::string assigned;
  for (auto partition : assignment)
    assigned += (assigned.empty() ? "" : ",") + std::to_string(partition);
  log_info("partitions assigned", {{"group", options_.group_id}, {"partitions", assigned}});
}

namespace {

/// The next message of a consumer as a record; nullopt for none or an error (logged).
std::optional<ConsumedRecord> consume(rd_kafka_t* handle, std::chrono::milliseconds timeout) {
  rd_kafka_message_t* message = rd_kafka_consumer_poll(handle, static_cast<int>(timeout.count()));
  if (!message) return std::nullopt;
  std::unique_ptr<rd_kafka_message_t, decltype(&rd_kafka_message_destroy)> owned(
      message, rd_kafka_message_destroy);
  if (message->err) {
    if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      log_warning("consumer error", {{"error", rd_kafka_message_errstr(message)}});
    }
    return std::nullopt;
  }
  ConsumedRecord record;
  record.topic = rd_kafka_topic_name(message->rkt);
  record.partition = message->partition;
  record.offset = message->offset;
  if (message->key) record.key.assign(static_cast<const char*>(message->key), message->key_len);
  if (message->payload) {
    record.value.assign(static_cast<const char*>(message->payload), message->len);
  }
  record.headers = headers_of(message);
  record.timestamp_us = rd_kafka_message_timestamp(message, nullptr) * 1000;
  for (const auto& [name, value] : record.headers) {
    if (name != domain::header::kTime) continue;
    if (auto time = domain::parse_timestamp(value)) {
      record.timestamp_us = time->time_since_epoch().count();
    }
  }
  return record;
}

/// Records buffered per partition before that partition is paused.
constexpr std::size_t kMergeBufferLimit = 20000;

}  // namespace

std::optional<ConsumedRecord> GroupConsumer::poll(std::chrono::milliseconds timeout) {
  return consume(handle_, timeout);
}

LogReader::LogReader(Options options, Offsets start, Offsets end)
    : options_(std::move(options)), next_(std::move(start)), end_(std::move(end)) {
  for (const auto& [partition, offset] : end_) next_.try_emplace(partition, 0);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_option(conf, "bootstrap.servers", options_.bootstrap_servers);
  set_option(conf, "client.id", options_.client_id);
  set_security(conf, options_.security);
  // A group id is required by the consumer API; nothing is ever committed under it.
  set_option(conf, "group.id", options_.client_id);
  set_option(conf, "enable.auto.commit", "false");
  set_option(conf, "enable.auto.offset.store", "false");
  set_option(conf, "fetch.wait.max.ms", std::to_string(kFetchWait.count()));
  rd_kafka_conf_set_log_cb(conf, log_from_kafka);
  handle_ = create_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(handle_);
  refuse_records_no_longer_held();
  assign();
  index_lanes();
}

void LogReader::index_lanes() {
  lanes_.clear();
  for (const auto& [partition, end] : end_) {
    lanes_.push_back({partition, &next_[partition], &end, &buffered_[partition]});
  }
}

void LogReader::refuse_records_no_longer_held() {
  for (const auto& [partition, end] : end_) {
    std::int64_t from = next_[partition];
    if (from >= end) continue;
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(handle_, options_.topic.c_str(), partition, &low, &high,
                                         10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;  // reading will report the broker's silence
    }
    if (low > from) {
      // Otherwise the consumer would silently start at the log's new beginning.
      throw KafkaError(options_.topic + " partition " + std::to_string(partition) +
                       " now starts at offset " + std::to_string(low) +
                       ": the broker no longer "
                       "holds offsets " +
                       std::to_string(from) + " to " + std::to_string(low - 1) +
                       " (its retention dropped them; the embedded development broker keeps the "
                       "last 5 MiB of each partition), so they cannot be read");
    }
  }
}

LogReader::~LogReader() {
  rd_kafka_consumer_close(handle_);
  rd_kafka_destroy(handle_);
}

void LogReader::assign() {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(end_.size()));
  for (const auto& [partition, end] : end_) {
    auto& buffer = buffered_[partition];
    std::int64_t fetch_from = buffer.empty() ? next_[partition] : buffer.back().offset + 1;
    if (fetch_from >= end) continue;
    rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), partition)->offset = fetch_from;
  }
  paused_.clear();
  auto error = rd_kafka_assign(handle_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (error) {
    throw KafkaError(std::string("cannot read ") + options_.topic + ": " + rd_kafka_err2str(error));
  }
}

void LogReader::extend_to(const Offsets& end) {
  for (const auto& [partition, offset] : end) {
    auto& known = end_[partition];
    known = std::max(known, offset);
    next_.try_emplace(partition, 0);
  }
  assign();
  index_lanes();
}

std::int64_t LogReader::remaining() const {
  std::int64_t left = 0;
  for (const auto& lane : lanes_) left += std::max<std::int64_t>(0, *lane.end - *lane.next);
  return left;
}

void LogReader::throttle(std::int32_t partition, bool pause) {
  if (pause == static_cast<bool>(paused_.count(partition))) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), partition);
  if (pause) {
    rd_kafka_pause_partitions(handle_, list);
    paused_.insert(partition);
  } else {
    rd_kafka_resume_partitions(handle_, list);
    paused_.erase(partition);
  }
  rd_kafka_topic_partition_list_destroy(list);
}

std::optional<ConsumedRecord> LogReader::next(std::chrono::milliseconds stall_timeout) {
  auto deadline = std::chrono::steady_clock::now() + stall_timeout;
  for (;;) {
    // Hand out the oldest head once every partition that owes records has one buffered. This
    // one pass also tells whether any partition still owes records.
    const Lane* oldest = nullptr;
    bool waiting = false;
    for (const auto& lane : lanes_) {
      if (*lane.next >= *lane.end) continue;
      if (lane.buffer->empty()) {
        waiting = true;
        break;
      }
      if (!oldest || lane.buffer->front().timestamp_us < oldest->buffer->front().timestamp_us) {
        oldest = &lane;
      }
    }
    if (!waiting && !oldest) return std::nullopt;  // every partition reached its end
    if (!waiting) {
      auto& buffer = *oldest->buffer;
      ConsumedRecord record = std::move(buffer.front());
      buffer.pop_front();
      *oldest->next = record.offset + 1;
      if (buffer.size() < kMergeBufferLimit / 2) throttle(oldest->partition, false);
      return record;
    }
    auto record = consume(handle_, std::chrono::milliseconds(100));
    if (!record) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw KafkaError("no records from " + options_.topic + " for " +
                         std::to_string(stall_timeout.count()) + " ms while " +
                         std::to_string(remaining()) + " remain");
      }
      continue;
    }
    deadline = std::chrono::steady_clock::now() + stall_timeout;
    auto& buffer = buffered_[record->partition];
    std::int64_t expected = buffer.empty() ? next_[record->partition] : buffer.back().offset + 1;
    if (record->offset < expected || record->offset >= end_[record->partition]) continue;
    buffer.push_back(std::move(*record));
    if (buffer.size() >= kMergeBufferLimit) throttle(buffer.back().partition, true);
  }
}

void GroupConsumer::seek(std::int32_t partition, std::int64_t offset) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, options_.topic.c_str(), partition)->offset = offset;
  if (rd_kafka_error_t* error = rd_kafka_seek_partitions(handle_, list, 5000)) {
    log_warning("seek failed", {{"error", rd_kafka_error_string(error)}});
    rd_kafka_error_destroy(error);
  }
  rd_kafka_topic_partition_list_destroy(list);
}

/// Relays TCP connections from a fixed loopback port to the mock broker's own port.
class EmbeddedBroker::Forwarder {
 public:
  Forwarder(std::uint16_t port, std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int reuse = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 64) != 0) {
      ::close(listener_);
      throw KafkaError("cannot listen on 127.0.0.1:" + std::to_string(port) +
                       " (is another broker running there?)");
    }
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~Forwarder() {
    stopping_ = true;
    acceptor_.join();
    for (auto& relay : relays_) relay.join();
    ::close(listener_);
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd ready{listener_, POLLIN, 0};
      if (::poll(&ready, 1, 200) <= 0) continue;
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0) continue;
      int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(upstream_port_);
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(client);
        ::close(upstream);
        continue;
      }
      std::lock_guard lock(mutex_);
      relays_.emplace_back([this, client, upstream] { relay(client, upstream); });
    }
  }

  void relay(int client, int upstream) {
    char buffer[16384];
    pollfd ends[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    while (!stopping_) {
      if (::poll(ends, 2, 200) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if (!(ends[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t count = ::read(ends[i].fd, buffer, sizeof buffer);
        if (count <= 0) {
          closed = true;
          break;
        }
        for (ssize_t sent = 0; sent < count;) {
          ssize_t written =
              ::write(ends[1 - i].fd, buffer + sent, static_cast<size_t>(count - sent));
          if (written <= 0) {
            closed = true;
            break;
          }
          sent += written;
        }
      }
      if (closed) break;
    }
    ::close(client);
    ::close(upstream);
  }

  std::uint16_t upstream_port_;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::list<std::thread> relays_;
};

/// Mirrors the topics into a file and replays that file into a fresh cluster. Each record is
/// [u32 length][payload], the payload holding topic, partition, key, value and headers as
/// length-prefixed fields; a torn record at the end (a crash mid-write) is dropped.
class EmbeddedBroker::Journal {
 public:
  /// Replays `content`, the journal file as `read` returned it, then goes on mirroring.
  Journal(const std::string& path, const std::string& content, const std::string& bootstrap,
          const std::vector<std::string>& topics, int partitions)
      : path_(path) {
    std::map<std::pair<std::string, std::int32_t>, std::int64_t> replayed =
        replay(content, bootstrap);
    file_ = std::fopen(path.c_str(), "ab");
    if (!file_) throw KafkaError("cannot open the broker journal " + path);

    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set_option(conf, "bootstrap.servers", bootstrap);
    set_option(conf, "group.id", "tidemark-broker-journal");
    set_option(conf, "enable.auto.commit", "false");
    set_option(conf, "log_level", "3");
    consumer_ = create_client(RD_KAFKA_CONSUMER, conf);
    rd_kafka_poll_set_consumer(consumer_);
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(0);
    for (const auto& topic : topics) {
      for (int partition = 0; partition < partitions; ++partition) {
        auto found = replayed.find({topic, partition});
        rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset =
            found == replayed.end() ? 0 : found->second;
      }
    }
    rd_kafka_assign(consumer_, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    writer_ = std::thread([this] { record_loop(); });
  }

  ~Journal() {
    stopping_ = true;
    writer_.join();
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
    std::fclose(file_);
  }

  /// The journal file's bytes; empty when there is none yet.
  static std::string read(const std::string& path) {
    std::string content;
    std::FILE* in = std::fopen(path.c_str(), "rb");
    if (!in) return content;
    char chunk[65536];
    for (size_t count; (count = std::fread(chunk, 1, sizeof chunk, in)) > 0;)
      content.append(chunk, count);
    std::fclose(in);
    return content;
  }

  /// The partitions per topic written beside the journal (`PATH.partitions`); 0 for a new
  /// journal. One that has records (`content`) but no such file was made before the file
  /// existed, when folders had 6 unless told otherwise: 6, or more if its records need more.
  static int read_partitions(const std::string& path, const std::string& content) {
    std::ifstream in(path + ".partitions");
    int partitions = 0;
    if (in >> partitions && partitions > 0) return partitions;
    if (content.empty()) return 0;
    constexpr int kPartitionsBeforeTheFile = 6;
    return std::max(kPartitionsBeforeTheFile, partitions_used(content));
  }

  static void write_partitions(const std::string& path, int partitions) {
    std::ofstream out(path + ".partitions", std::ios::trunc);
    out << partitions << "\n";
    if (!out) throw KafkaError("cannot write " + path + ".partitions");
  }

 private:
  /// How many partitions per topic the records in `content` need: the highest one + 1.
  static int partitions_used(const std::string& content) {
    int used = 0;
    std::size_t at = 0;
    std::string record, topic;
    std::uint32_t partition = 0;
    while (get_field(content, at, record)) {
      std::size_t inner = 0;
      if (!get_field(record, inner, topic) || !get_u32(record, inner, partition)) break;
      used = std::max(used, static_cast<int>(partition) + 1);
    }
    return used;
  }

  static void put_u32(std::string& out, std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>(value >> shift));
  }
  static void put_field(std::string& out, const void* data, std::size_t size) {
    put_u32(out, static_cast<std::uint32_t>(size));
    out.append(static_cast<const char*>(data), size);
  }
  static bool get_u32(const std::string& in, std::size_t& at, std::uint32_t& value) {
    if (at + 4 > in.size()) return false;
    value = 0;
    for (int i = 0; i < 4; ++i)
      value |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
    at += 4;
    return true;
  }
  static bool get_field(const std::string& in, std::size_t& at, std::string& field) {
    std::uint32_t size = 0;
    if (!get_u32(in, at, size) || at + size > in.size()) return false;
    field.assign(in, at, size);
    at += size;
    return true;
  }

  void record_loop() {
    while (!stopping_) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_, 100);
      if (!message) continue;
      if (!message->err) {
        std::string payload;
        std::string topic = rd_kafka_topic_name(message->rkt);
        put_field(payload, topic.data(), topic.size());
        put_u32(payload, static_cast<std::uint32_t>(message->partition));
        put_field(payload, message->key, message->key ? message->key_len : 0);
        put_field(payload, message->payload, message->payload ? message->len : 0);
        domain::Headers header_list = headers_of(message);
        put_u32(payload, static_cast<std::uint32_t>(header_list.size()));
        for (const auto& [name, value] : header_list) {
          put_field(payload, name.data(), name.size());
          put_field(payload, value.data(), value.size());
        }
        std::string framed;
        put_field(framed, payload.data(), payload.size());
        std::fwrite(framed.data(), 1, framed.size(), file_);
        std::fflush(file_);
      }
      rd_kafka_message_destroy(message);
    }
  }

  std::map<std::pair<std::string, std::int32_t>, std::int64_t> replay(
      const std::string& content, const std::string& bootstrap) {
    std::map<std::pair<std::string, std::int32_t>, std::int64_t> counts;
    if (content.empty()) return counts;

    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set_option(conf, "bootstrap.servers", bootstrap);
    set_option(conf, "enable.idempotence", "true");
    set_option(conf, "acks", "all");
    rd_kafka_conf_set_dr_msg_cb(conf,
                                [](rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
                                  if (message->err) ++*static_cast<std::int64_t*>(opaque);
                                });
    std::int64_t failures = 0;
    rd_kafka_conf_set_opaque(conf, &failures);
    rd_kafka_t* producer = create_client(RD_KAFKA_PRODUCER, conf);
    std::size_t at = 0;
    std::size_t complete = 0;
    for (;;) {
      std::string record, topic, key, value;
      std::uint32_t partition = 0, header_count = 0;
      if (!get_field(content, at, record)) break;
      std::size_t inner = 0;
      if (!get_field(record, inner, topic) || !get_u32(record, inner, partition) ||
          !get_field(record, inner, key) || !get_field(record, inner, value) ||
          !get_u32(record, inner, header_count)) {
        break;
      }
      rd_kafka_headers_t* headers = rd_kafka_headers_new(header_count);
      bool whole = true;
      for (std::uint32_t i = 0; i < header_count && whole; ++i) {
        std::string name, header_value;
        whole = get_field(record, inner, name) && get_field(record, inner, header_value);
        if (whole) {
          rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()),
                              header_value.data(), static_cast<ssize_t>(header_value.size()));
        }
      }
      if (!whole) {
        rd_kafka_headers_destroy(headers);
        break;
      }
      for (;;) {
        auto error = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic.c_str()),
            RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(partition)),
            RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          if (error) {
            rd_kafka_headers_destroy(headers);
            ++failures;
          }
          break;
        }
        rd_kafka_poll(producer, 100);  // let deliveries drain the queue
      }
      ++counts[{topic, static_cast<std::int32_t>(partition)}];
      complete = at;
    }
    rd_kafka_flush(producer, 60000);
    rd_kafka_destroy(producer);
    if (failures > 0) {
      throw KafkaError("replaying the broker journal " + path_ + " failed for " +
                       std::to_string(failures) + " record(s)");
    }
    if (complete < content.size()) {
      // Drop a record torn by a crash so the next append starts on a boundary.
      std::filesystem::resize_file(path_, complete);
      log_warning("dropped a torn record at the end of the broker journal", {{"path", path_}});
    }
    std::int64_t total = 0;
    for (const auto& [partition, count] : counts) total += count;
    log_info("broker journal replayed", {{"records", std::to_string(total)}, {"path", path_}});
    return counts;
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  rd_kafka_t* consumer_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::thread writer_;
};

EmbeddedBroker::EmbeddedBroker(Options options) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set_option(conf, "log_level", "3");
  owner_ = create_client(RD_KAFKA_PRODUCER, conf);
  auto* cluster = rd_kafka_mock_cluster_new(owner_, 1);
  if (!cluster) {
    rd_kafka_destroy(owner_);
    throw KafkaError("cannot create the mock Kafka cluster");
  }
  cluster_ = cluster;
  // A topic's partitions can grow, never shrink (as in Kafka): fewer would leave journalled
  // records without their partition and move keys. The count the journal's topics had wins
  // over a lower one.
  std::string journalled;
  if (!options.journal.empty()) {
    journalled = Journal::read(options.journal);
    int had = Journal::read_partitions(options.journal, journalled);
    if (had > options.partitions) {
      log_warning(
          "the broker journal's topics have more partitions than topic_partitions asks; "
          "keeping them (partitions can be added, never removed)",
          {{"path", options.journal},
           {"journal_partitions", std::to_string(had)},
           {"topic_partitions", std::to_string(options.partitions)}});
      options.partitions = had;
    }
    Journal::write_partitions(options.journal, options.partitions);
  }
  partitions_ = options.partitions;
  for (const auto& topic : options.topics) {
    if (auto error = rd_kafka_mock_topic_create(cluster, topic.c_str(), options.partitions, 1)) {
      throw KafkaError("cannot create topic " + topic + ": " + rd_kafka_err2str(error));
    }
  }
  std::string mock_address = rd_kafka_mock_cluster_bootstraps(cluster);
  // With one broker the list is a single HOST:PORT.
  auto mock_port =
      static_cast<std::uint16_t>(std::stoi(mock_address.substr(mock_address.rfind(':') + 1)));
  if (options.port == 0) {
    bootstrap_servers_ = "127.0.0.1:" + std::to_string(mock_port);
  } else {
    forwarder_ = std::make_unique<Forwarder>(options.port, mock_port);
    bootstrap_servers_ = "127.0.0.1:" + std::to_string(options.port);
  }
  if (!options.journal.empty()) {
    journal_ = std::make_unique<Journal>(options.journal, journalled, bootstrap_servers_,
                                         options.topics, options.partitions);
  }
}

EmbeddedBroker::~EmbeddedBroker() {
  journal_.reset();
  forwarder_.reset();
  rd_kafka_mock_cluster_destroy(static_cast<rd_kafka_mock_cluster_t*>(cluster_));
  rd_kafka_destroy(owner_);
}

void EmbeddedBroker::set_down() {
  rd_kafka_mock_broker_set_down(static_cast<rd_kafka_mock_cluster_t*>(cluster_), 1);
}

void EmbeddedBroker::set_up() {
  rd_kafka_mock_broker_set_up(static_cast<rd_kafka_mock_cluster_t*>(cluster_), 1);
}

}  // namespace tidemark::infra
