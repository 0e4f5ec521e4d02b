#include "infra/password_hasher.h"

#include <argon2.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include "infra/cipher.h"
#include "infra/log.h"

namespace tidemark::infra {

namespace {

// Well above the ~100 characters of our own encodings; a longer string is not ours.
constexpr std::size_t kMaxEncodedBytes = 512;

/// Reads a decimal uint32 without sign or leading zeros from the front of `text`.
std::optional<std::uint32_t> take_number(std::string_view& text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || (digits > 1 && text[0] == '0')) return std::nullopt;
  std::uint32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + digits, value);
  if (error != std::errc()) return std::nullopt;
  text.remove_prefix(digits);
  return value;
}

bool take(std::string_view& text, std::string_view expected) {
  if (!text.starts_with(expected)) return false;
  text.remove_prefix(expected.size());
  return true;
}

bool is_standard_base64(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

/// True when `encoded` has exactly the form we write, within the verification cost limits.
/// libargon2 parses it again; checking first keeps other variants, versions and costly
/// parameters away from it.
bool acceptable_encoding(std::string_view encoded) {
  if (encoded.size() > kMaxEncodedBytes || !take(encoded, "$argon2id$v=19$m=")) return false;
  auto memory = take_number(encoded);
  if (!memory || !take(encoded, ",t=")) return false;
  auto iterations = take_number(encoded);
  if (!iterations || !take(encoded, ",p=")) return false;
  auto parallelism = take_number(encoded);
  if (!parallelism || !take(encoded, "$")) return false;
  if (*memory > kMaxVerifyMemoryKib || *iterations > kMaxVerifyIterations ||
      *parallelism > kMaxVerifyParallelism) {
    return false;
  }
  std::size_t dollar = encoded.find('$');
  return dollar != std::string_view::npos && is_standard_base64(encoded.substr(0, dollar)) &&
         is_standard_base64(encoded.substr(dollar + 1));
}

}  // namespace

std::string hash_password(std::string_view password, const PasswordHashParams& params) {
  std::string salt = random_bytes(params.salt_bytes);
  std::string encoded(argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                                        params.salt_bytes, params.hash_bytes, Argon2_id),
                      '\0');
  int status = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                     password.data(), password.size(), salt.data(), salt.size(),
                                     params.hash_bytes, encoded.data(), encoded.size());
  if (status != ARGON2_OK) {
    std::string message = std::string("argon2id hashing failed: ") + argon2_error_message(status);
    if (status == ARGON2_MEMORY_ALLOCATION_ERROR || status == ARGON2_THREAD_FAIL) {
      throw std::runtime_error(message);
    }
    throw std::invalid_argument(message);
  }
  encoded.resize(encoded.find('\0'));  // argon2_encodedlen counts the terminator
  return encoded;
}

bool verify_password(std::string_view password, std::string_view encoded) noexcept {
  try {
    if (!acceptable_encoding(encoded)) return false;
    std::string terminated(encoded);  // libargon2 wants a C string
    return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
  } catch (...) {
    return false;  // only std::bad_alloc can get here
  }
}

struct PasswordHasher::Job {
  std::string password;
  std::string encoded;                         // verify jobs only
  std::function<void(std::string)> on_hashed;  // set for hash jobs
  std::function<void(bool)> on_verified;       // set for verify jobs
  ~Job() { wipe(password); }
};

namespace {

/// Wipes a password parameter on every way out of a function, exceptions included.
struct WipeOnExit {
  std::string& secret;
  ~WipeOnExit() { wipe(secret); }
};

}  // namespace

PasswordHasher::PasswordHasher(std::size_t threads, std::size_t queue_limit,
                               PasswordHashParams params)
    : params_(params), queue_limit_(queue_limit) {
  if (threads == 0 || queue_limit == 0) {
    throw std::invalid_argument("PasswordHasher needs at least one thread and one queue slot");
  }
  callback_thread_ = std::thread([this] { run_callbacks(); });
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run_worker(); });
}

PasswordHasher::~PasswordHasher() {
  stop();
}

bool PasswordHasher::submit_hash(std::string password,
                                 std::function<void(std::string encoded)> done) {
  WipeOnExit wipe_parameter{password};
  auto job = std::make_unique<Job>();
  // Copied, not moved: moving a short string copies its characters and leaves them behind.
  job->password.assign(password);
  job->on_hashed = std::move(done);
  return enqueue(std::move(job));
}

bool PasswordHasher::submit_verify(std::string password, std::string encoded,
                                   std::function<void(bool)> done) {
  WipeOnExit wipe_parameter{password};
  auto job = std::make_unique<Job>();
  job->password.assign(password);
  job->encoded = std::move(encoded);
  job->on_verified = std::move(done);
  return enqueue(std::move(job));
}

bool PasswordHasher::enqueue(std::unique_ptr<Job> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void PasswordHasher::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  {
    std::lock_guard lock(callbacks_mutex_);
    workers_done_ = true;
  }
  callbacks_wake_.notify_all();
  if (callback_thread_.joinable()) callback_thread_.join();
}

void PasswordHasher::run_worker() {
  // Hashing is the one CPU-heavy job of the API: as an idle-class thread, a login storm takes
  // only what the request threads leave instead of delaying them (nice 10 still took ~10%).
  sched_param idle{};
  if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle) != 0) {
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
  }
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and the queue is drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    run(std::move(job));
  }
}

void PasswordHasher::run(std::unique_ptr<Job> job) {
  std::function<void()> callback;
  if (job->on_hashed) {
    std::string encoded;
    try {
      encoded = hash_password(job->password, params_);
    } catch (const std::exception& error) {
      log_error("password hashing failed", {{"error", error.what()}});
    }
    wipe(job->password);
    callback = [done = std::move(job->on_hashed), encoded = std::move(encoded)]() mutable {
      done(std::move(encoded));
    };
  } else {
    bool match = verify_password(job->password, job->encoded);
    wipe(job->password);
    callback = [done = std::move(job->on_verified), match] { done(match); };
  }
  {
    std::lock_guard lock(callbacks_mutex_);
    callbacks_.push_back(std::move(callback));
  }
  callbacks_wake_.notify_one();
}

void PasswordHasher::run_callbacks() {
  for (;;) {
    std::function<void()> callback;
    {
      std::unique_lock lock(callbacks_mutex_);
      callbacks_wake_.wait(lock, [this] { return workers_done_ || !callbacks_.empty(); });
      if (callbacks_.empty()) return;  // every worker has joined and every callback ran
      callback = std::move(callbacks_.front());
      callbacks_.pop_front();
    }
    try {
      callback();
    } catch (const std::exception& error) {
      // A throwing callback must not take the callback thread, and the process, down with it.
      log_error("password hasher callback failed", {{"error", error.what()}});
    } catch (...) {
      log_error("password hasher callback failed", {{"error", "unknown exception"}});
    }
  }
}

}  // namespace tidemark::infra
