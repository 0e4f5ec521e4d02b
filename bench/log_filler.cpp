// Fills the events topic with N event-log entries (`tidemark.log_entry.recorded.v1`, the
// commonest event) straight through the producer, as fast as the broker takes them: the input
// of bench/rebuild_bench.sh. Usage:
//   tidemark_log_filler BOOTSTRAP TOPIC COUNT OWNER_UUID
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "domain/log_entry.h"
#include "domain/uuid.h"
#include "infra/ids.h"
#include "infra/kafka.h"

int main(int argc, char** argv) {
  using namespace tidemark;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s BOOTSTRAP TOPIC COUNT OWNER_UUID\n", argv[0]);
    return 2;
  }
  std::string topic = argv[2];
  long count = std::atol(argv[3]);
  auto owner = domain::Uuid::parse(argv[4]);
  if (count <= 0 || !owner) {
    std::fprintf(stderr, "COUNT must be positive and OWNER_UUID a UUID\n");
    return 2;
  }
  infra::EventProducer producer(
      infra::EventProducer::Options{argv[1], "tidemark-log-filler", 60000});
  std::atomic<long> acknowledged{0}, failed{0};
  // A hundred entries per user (at least 1,000 users): the users are the keys, so a long log
  // spreads evenly over many partitions.
  const long users = std::max(1000L, count / 100);
  auto started = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    domain::LogEntry entry{infra::random_uuid(),
                           "bench-user-" + std::to_string(i % users),
                           std::nullopt,
                           i % 3 == 0 ? "screen_view" : "tap",
                           R"({"screen":"home","n":)" + std::to_string(i) + "}",
                           "ios",
                           "info",
                           domain::now_utc(),
                           owner,
                           std::nullopt};
    auto envelope = infra::new_event("/tidemark/bench", domain::kLogEntryRecordedV1, entry.user_id,
                                     "event_log/" + entry.event_id.to_string(),
                                     domain::encode_log_entry_payload(entry), "", "bench");
    // Bounded in-flight records: the producer's queue holds at most this many.
    while (i - acknowledged - failed > 50000)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    producer.append(topic, envelope, [&](const domain::Result<domain::Position>& result) {
      (result ? acknowledged : failed)++;
    });
  }
  while (acknowledged + failed < count) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%ld acknowledged, %ld failed, %.1f s, %.0f events/s\n", acknowledged.load(),
              failed.load(), seconds, static_cast<double>(acknowledged) / seconds);
  return failed == 0 ? 0 : 1;
}
