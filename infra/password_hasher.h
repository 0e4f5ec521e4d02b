#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tidemark::infra {

/// Argon2id costs. The defaults are OWASP's recommendation (19 MiB, 2 passes, 1 lane); tests
/// pass cheaper ones. Changing them affects new hashes only: verification reads the costs from
/// each encoded string.
struct PasswordHashParams {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
  std::uint32_t salt_bytes = 16;
  std::uint32_t hash_bytes = 32;
};

/// Highest costs verify_password accepts from an encoded string, so a stored hash cannot make
/// a login take gigabytes or minutes.
inline constexpr std::uint32_t kMaxVerifyMemoryKib = 256 * 1024;
inline constexpr std::uint32_t kMaxVerifyIterations = 64;
inline constexpr std::uint32_t kMaxVerifyParallelism = 16;

/// The PHC string of an argon2id hash of `password` with a fresh random salt:
/// `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (standard base64 without padding). Takes tens
/// of milliseconds of one core at the defaults: call it from a PasswordHasher, not an HTTP
/// thread. Throws std::invalid_argument for costs libargon2 refuses, std::runtime_error if
/// hashing fails (e.g. out of memory).
std::string hash_password(std::string_view password, const PasswordHashParams& params = {});

/// True when `encoded` is an argon2id v=19 string within the kMaxVerify* costs and `password`
/// matches it (compared in constant time by libargon2). False for anything else, including
/// malformed strings and other Argon2 variants; never throws.
bool verify_password(std::string_view password, std::string_view encoded) noexcept;

/// Runs hash_password and verify_password on a fixed set of threads with a bounded queue, so
/// slow hashing neither blocks HTTP threads nor piles up without limit under a login flood.
/// The hashing threads are idle-class (SCHED_IDLE): a login storm takes only the CPU that
/// requests leave. Each accepted job's callback runs exactly once, in order of completion, on
/// one callback thread of normal priority: a callback that took a lock other threads share
/// (OpenSSL's algorithm cache, librdkafka's queues) on an idle-class thread could be preempted
/// holding it, and stall every request needing that lock until a core fell idle. Callbacks
/// should be quick (hand the result back to the HTTP layer) and must not call stop().
/// Thread-safe.
class PasswordHasher {
 public:
  /// `threads` >= 1 workers; at most `queue_limit` >= 1 jobs wait beyond those running.
  /// Throws std::invalid_argument for zero.
  PasswordHasher(std::size_t threads, std::size_t queue_limit, PasswordHashParams params = {});
  ~PasswordHasher();  ///< stop()
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  /// Queues a hash; `done` receives the encoded string, or an empty one if hashing failed
  /// (logged). False, without calling `done`, when the queue is full or the pool stopped
  /// (answer 503). Either way `password` is wiped before this returns.
  bool submit_hash(std::string password, std::function<void(std::string encoded)> done);
  /// Queues a verification; `done` receives verify_password's answer. As submit_hash otherwise.
  bool submit_verify(std::string password, std::string encoded, std::function<void(bool)> done);

  /// Refuses new jobs, runs those already queued and their callbacks (so every accepted
  /// callback is called), and joins the threads. Idempotent.
  void stop();

 private:
  struct Job;
  bool enqueue(std::unique_ptr<Job> job);
  void run_worker();
  void run_callbacks();
  /// Hashes or verifies on the calling (idle-class) thread, then queues the job's callback.
  void run(std::unique_ptr<Job> job);

  const PasswordHashParams params_;
  const std::size_t queue_limit_;
  std::mutex stop_mutex_;  // held through stop(), so a second caller waits for the joins
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;

  std::mutex callbacks_mutex_;
  std::condition_variable callbacks_wake_;
  std::deque<std::function<void()>> callbacks_;
  bool workers_done_ = false;  // set once every worker has joined: no callback can come after
  std::thread callback_thread_;
};

}  // namespace tidemark::infra
