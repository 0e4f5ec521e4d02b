// tidemark_load: a small HTTP/1.1 load generator for the benchmarks in bench/ (see
// bench/README.md). Self-contained: POSIX sockets and the C++ standard library.
//
// Two modes:
//   --rate R         open loop: R requests per second on a fixed schedule for --duration
//                    seconds. Request i is due at start + i/R; a pool of --connections
//                    keep-alive connections (one thread each) takes the due requests in order.
//                    Latency is measured from each request's SCHEDULED time, so a slow answer
//                    that delays the next requests counts against them too (no coordinated
//                    omission). A request sent more than --late-ms after it was due (no
//                    connection was free, or the client was not scheduled) is counted as late.
//   --concurrency C  closed loop: C keep-alive connections each send their next request as
//                    soon as the previous one is answered, for --duration seconds. Latency is
//                    from send to the end of the answer.
//
// `{{seq}}` in the URL's path or the body becomes the request's number (0, 1, 2, ... across all
// connections, plus --seq-start), and `{{seq%N}}` that number modulo N, so every request can
// carry its own id. Statuses in --expect-status (default: any 2xx) whose body contains
// --expect-body (when given) count as ok; any other status, a body without the text, and a
// socket error or timeout count as errors. Prints a summary as text, or as JSON with --json.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Nanos = std::chrono::nanoseconds;

[[noreturn]] void fail(const std::string& message) {
  std::cerr << "tidemark_load: " << message << "\n";
  std::exit(2);
}

const char* const kUsage =
    "usage: tidemark_load [options] URL\n"
    "\n"
    "  URL                    http://HOST:PORT/PATH?QUERY ({{seq}} and {{seq%N}} expand per request)\n"
    "  -X, --method METHOD    request method (default GET, or POST with a body)\n"
    "  -H, --header 'N: V'    a request header (repeatable)\n"
    "  --body TEXT            the request body ({{seq}} and {{seq%N}} expand per request)\n"
    "  --body-file PATH       the request body, read from a file (same expansion)\n"
    "  --rate R               open loop: R requests/s on a fixed schedule\n"
    "  --connections N        open loop: connections (threads) carrying them (default 64)\n"
    "  --concurrency C        closed loop: C connections sending back to back (default 1)\n"
    "  --duration S           seconds of load (default 10)\n"
    "  --timeout S            seconds one request may take before it counts as an error (default 30)\n"
    "  --expect-status LIST   comma-separated statuses that count as ok (default any 2xx)\n"
    "  --expect-body TEXT     an ok answer's body must also contain TEXT\n"
    "  --late-ms MS           open loop: sent more than MS after it was due is late (default 1)\n"
    "  --seq-start N          first value of {{seq}} (default 0)\n"
    "  --json                 print the summary as one JSON object\n";

// --- a request template ---------------------------------------------------------------------

/// Text with `{{seq}}` / `{{seq%N}}` placeholders, split once so expanding is cheap.
class Template {
 public:
  explicit Template(const std::string& text) {
    std::size_t at = 0;
    while (true) {
      std::size_t open = text.find("{{seq", at);
      if (open == std::string::npos) break;
      std::size_t close = text.find("}}", open);
      if (close == std::string::npos) break;
      std::string inner = text.substr(open + 5, close - open - 5);
      std::uint64_t modulo = 0;
      if (!inner.empty()) {
        if (inner[0] != '%' || inner.size() < 2) {
          at = open + 1;
          continue;
        }
        char* end = nullptr;
        modulo = std::strtoull(inner.c_str() + 1, &end, 10);
        if (*end != '\0' || modulo == 0) fail("bad placeholder {{seq" + inner + "}}");
      }
      pieces_.push_back(literal_ + text.substr(at, open - at));
      literal_.clear();
      moduli_.push_back(modulo);
      at = close + 2;
    }
    literal_ += text.substr(at);
  }

  bool constant() const { return pieces_.empty(); }

  std::string expand(std::uint64_t seq) const {
    std::string out;
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      out += pieces_[i];
      out += std::to_string(moduli_[i] ? seq % moduli_[i] : seq);
    }
    out += literal_;
    return out;
  }

 private:
  std::vector<std::string> pieces_;
  std::vector<std::uint64_t> moduli_;
  std::string literal_;
};

struct Options {
  std::string host;
  std::string port = "80";
  std::string target = "/";
  std::string method;
  std::vector<std::string> headers;
  std::string body;
  bool has_body = false;
  double rate = 0;
  int connections = 64;
  int concurrency = 0;
  double duration_s = 10;
  double timeout_s = 30;
  std::vector<int> expect_status;
  std::string expect_body;
  double late_ms = 1;
  std::uint64_t seq_start = 0;
  bool json = false;
};

void parse_url(const std::string& url, Options& options) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) fail("only http:// URLs are supported: " + url);
  std::string rest = url.substr(scheme.size());
  std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  options.target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::size_t colon = authority.rfind(':');
  if (colon != std::string::npos) {
    options.host = authority.substr(0, colon);
    options.port = authority.substr(colon + 1);
  } else {
    options.host = authority;
  }
  if (options.host.empty()) fail("no host in " + url);
}

double number_argument(const std::string& name, const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(value) || value < 0) {
    fail(name + " needs a number, got '" + text + "'");
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options options;
  std::optional<std::string> url;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "-X" || arg == "--method") {
      options.method = value();
    } else if (arg == "-H" || arg == "--header") {
      options.headers.push_back(value());
    } else if (arg == "--body") {
      options.body = value();
      options.has_body = true;
    } else if (arg == "--body-file") {
      std::string path = value();
      std::ifstream file(path, std::ios::binary);
      if (!file) fail("cannot read " + path);
      std::ostringstream content;
      content << file.rdbuf();
      options.body = content.str();
      options.has_body = true;
    } else if (arg == "--rate") {
      options.rate = number_argument(arg, value());
    } else if (arg == "--connections") {
      options.connections = static_cast<int>(number_argument(arg, value()));
    } else if (arg == "--concurrency") {
      options.concurrency = static_cast<int>(number_argument(arg, value()));
    } else if (arg == "--duration") {
      options.duration_s = number_argument(arg, value());
    } else if (arg == "--timeout") {
      options.timeout_s = number_argument(arg, value());
    } else if (arg == "--expect-status") {
      std::stringstream list(value());
      std::string item;
      while (std::getline(list, item, ',')) {
        options.expect_status.push_back(static_cast<int>(number_argument(arg, item)));
      }
    } else if (arg == "--expect-body") {
      options.expect_body = value();
    } else if (arg == "--late-ms") {
      options.late_ms = number_argument(arg, value());
    } else if (arg == "--seq-start") {
      options.seq_start = static_cast<std::uint64_t>(number_argument(arg, value()));
    } else if (arg == "--json") {
      options.json = true;
    } else if (!arg.empty() && arg[0] == '-') {
      fail("unknown option " + arg + "\n" + kUsage);
    } else if (!url) {
      url = arg;
    } else {
      fail("more than one URL given");
    }
  }
  if (!url) fail(std::string("no URL given\n") + kUsage);
  parse_url(*url, options);
  if (options.method.empty()) options.method = options.has_body ? "POST" : "GET";
  if (options.rate > 0 && options.concurrency > 0) fail("give --rate or --concurrency, not both");
  if (options.rate <= 0 && options.concurrency <= 0) options.concurrency = 1;
  if (options.connections < 1 || options.connections > 4096) fail("--connections: 1 to 4096");
  if (options.concurrency > 4096) fail("--concurrency: at most 4096");
  if (options.duration_s <= 0) fail("--duration must be above 0");
  if (options.timeout_s <= 0) fail("--timeout must be above 0");
  return options;
}

// --- one keep-alive connection ----------------------------------------------------------------

struct Answer {
  int status = 0;  // 0: socket error or timeout
  std::string body;
  std::string error;
};

class Connection {
 public:
  Connection(const addrinfo* address, double timeout_s)
      : address_(address), timeout_(std::chrono::duration_cast<Nanos>(
                                std::chrono::duration<double>(timeout_s))) {}
  ~Connection() { close_socket(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool open(std::string& error) {
    if (fd_ >= 0) return true;
    fd_ = ::socket(address_->ai_family, address_->ai_socktype | SOCK_CLOEXEC,
                   address_->ai_protocol);
    if (fd_ < 0) {
      error = std::string("socket: ") + std::strerror(errno);
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, address_->ai_addr, address_->ai_addrlen) != 0) {
      error = std::string("connect: ") + std::strerror(errno);
      close_socket();
      return false;
    }
    buffer_.clear();
    return true;
  }

  /// One request and its answer. A connection the server closed while it was idle fails
  /// before any byte of the answer arrives: then the request is sent again, once, on a new
  /// connection (as browsers and curl do), and `reconnects()` counts it.
  Answer exchange(const std::string& request) {
    auto deadline = Clock::now() + timeout_;
    for (int attempt = 1;; ++attempt) {
      Answer answer;
      bool reused = fd_ >= 0;  // opened before this request (and maybe idle since)
      if (!open(answer.error)) return answer;
      answer_started_ = false;
      if (write_all(request, deadline, answer.error) && read_answer(answer, deadline)) {
        return answer;
      }
      answer.status = 0;
      close_socket();
      if (attempt > 1 || !reused || answer_started_ || answer.error == "timeout") return answer;
      ++reconnects_;
    }
  }

  std::uint64_t reconnects() const { return reconnects_; }

 private:
  void close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  bool wait_for(short events, Clock::time_point deadline, std::string& error) {
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        error = "timeout";
        return false;
      }
      pollfd entry{fd_, events, 0};
      int ready = ::poll(&entry, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) {
        error = std::string("poll: ") + std::strerror(errno);
        return false;
      }
    }
  }

  bool write_all(const std::string& data, Clock::time_point deadline, std::string& error) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait_for(POLLOUT, deadline, error)) return false;
      } else {
        error = std::string("send: ") + std::strerror(errno);
        return false;
      }
    }
    return true;
  }

  /// Appends what the socket has to buffer_; false on error, end of stream or timeout.
  bool fill(Clock::time_point deadline, std::string& error) {
    if (!wait_for(POLLIN, deadline, error)) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      answer_started_ = true;
      return true;
    }
    if (n == 0) {
      error = "connection closed by the server";
    } else if (errno == EINTR || errno == EAGAIN) {
      return true;
    } else {
      error = std::string("recv: ") + std::strerror(errno);
    }
    return false;
  }

  static bool iequals_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
    }
    return true;
  }

  static std::string trimmed_value(std::string_view line) {
    std::size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.remove_suffix(1);
    std::string out(value);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  }

  bool read_answer(Answer& answer, Clock::time_point deadline) {
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (buffer_.size() > 1 << 20) {
        answer.error = "response headers too large";
        return false;
      }
      if (!fill(deadline, answer.error)) return false;
    }
    std::string_view head(buffer_.data(), header_end);
    // "HTTP/1.1 200 OK"
    std::size_t space = head.find(' ');
    if (head.substr(0, 5) != "HTTP/" || space == std::string_view::npos) {
      answer.error = "not an HTTP response";
      return false;
    }
    answer.status = std::atoi(std::string(head.substr(space + 1, 3)).c_str());
    std::optional<std::size_t> content_length;
    bool chunked = false;
    bool close_after = head.substr(0, 8) == "HTTP/1.0";
    std::size_t at = head.find("\r\n");
    while (at != std::string_view::npos && at < head.size()) {
      std::size_t next = head.find("\r\n", at + 2);
      std::string_view line =
          head.substr(at + 2, (next == std::string_view::npos ? head.size() : next) - at - 2);
      if (iequals_prefix(line, "content-length:")) {
        content_length = std::strtoull(trimmed_value(line).c_str(), nullptr, 10);
      } else if (iequals_prefix(line, "transfer-encoding:")) {
        chunked = trimmed_value(line).find("chunked") != std::string::npos;
      } else if (iequals_prefix(line, "connection:")) {
        std::string value = trimmed_value(line);
        if (value.find("close") != std::string::npos) close_after = true;
        if (value.find("keep-alive") != std::string::npos) close_after = false;
      }
      at = next;
    }
    buffer_.erase(0, header_end + 4);
    if (chunked) {
      if (!read_chunked(answer, deadline)) return false;
    } else if (content_length) {
      while (buffer_.size() < *content_length) {
        if (!fill(deadline, answer.error)) return false;
      }
      answer.body = buffer_.substr(0, *content_length);
      buffer_.erase(0, *content_length);
    } else if (answer.status >= 200 && answer.status != 204 && answer.status != 304) {
      // No length: the body runs to the end of the connection.
      std::string ignored;
      while (fill(deadline, ignored)) {
      }
      answer.body = std::move(buffer_);
      close_after = true;
    }
    if (close_after) close_socket();
    return true;
  }

  bool read_chunked(Answer& answer, Clock::time_point deadline) {
    while (true) {
      std::size_t line_end;
      while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill(deadline, answer.error)) return false;
      }
      std::size_t size = std::strtoull(buffer_.substr(0, line_end).c_str(), nullptr, 16);
      buffer_.erase(0, line_end + 2);
      if (size == 0) {
        // Trailers, then an empty line.
        while (true) {
          while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
            if (!fill(deadline, answer.error)) return false;
          }
          buffer_.erase(0, line_end + 2);
          if (line_end == 0) return true;
        }
      }
      while (buffer_.size() < size + 2) {
        if (!fill(deadline, answer.error)) return false;
      }
      answer.body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  }

  const addrinfo* address_;
  Nanos timeout_;
  int fd_ = -1;
  std::uint64_t reconnects_ = 0;  // requests sent again after an idle connection was closed
  bool answer_started_ = false;   // a byte of the current answer arrived
  std::string buffer_;
};

// --- the load ---------------------------------------------------------------------------------

struct Sample {
  std::int64_t latency_ns;  // from the scheduled (open loop) or actual (closed loop) send
  std::int64_t lag_ns;      // open loop: sent this long after it was due
  int status;
  bool ok;
};

struct Results {
  std::vector<Sample> samples;
  std::map<std::string, std::uint64_t> errors;  // socket errors by message
  std::uint64_t body_mismatch = 0;
  std::uint64_t reconnects = 0;
  Clock::time_point last_end{};
};

class Load {
 public:
  explicit Load(const Options& options)
      : options_(options), path_(options.target), body_(options.body) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int error = ::getaddrinfo(options.host.c_str(), options.port.c_str(), &hints, &address_);
    if (error != 0) fail("cannot resolve " + options.host + ": " + ::gai_strerror(error));
    std::string host_header = options.host + ":" + options.port;
    head_suffix_ = " HTTP/1.1\r\nHost: " + host_header + "\r\n";
    for (const auto& header : options.headers) head_suffix_ += header + "\r\n";
  }
  ~Load() { ::freeaddrinfo(address_); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  std::string request(std::uint64_t seq) const {
    std::string body = body_.constant() ? options_.body : body_.expand(seq);
    std::string out = options_.method + " " + (path_.constant() ? options_.target : path_.expand(seq));
    out += head_suffix_;
    if (options_.has_body || options_.method == "POST" || options_.method == "PUT") {
      out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    out += "\r\n";
    out += body;
    return out;
  }

  bool ok(const Answer& answer, Results& results) const {
    if (answer.status == 0) return false;
    bool status_ok = options_.expect_status.empty()
                         ? answer.status >= 200 && answer.status < 300
                         : std::find(options_.expect_status.begin(), options_.expect_status.end(),
                                     answer.status) != options_.expect_status.end();
    if (!status_ok) return false;
    if (!options_.expect_body.empty() && answer.body.find(options_.expect_body) == std::string::npos) {
      ++results.body_mismatch;
      return false;
    }
    return true;
  }

  void record(const Answer& answer, Clock::time_point due, Clock::time_point sent,
              Clock::time_point end, Results& results) const {
    bool good = ok(answer, results);
    if (answer.status == 0) ++results.errors[answer.error.empty() ? "error" : answer.error];
    results.samples.push_back({std::chrono::duration_cast<Nanos>(end - due).count(),
                               std::chrono::duration_cast<Nanos>(sent - due).count(),
                               answer.status, good});
    results.last_end = std::max(results.last_end, end);
  }

  /// Runs the load; returns the results of every thread and the start time.
  std::vector<Results> run(Clock::time_point& start) {
    bool open_loop = options_.rate > 0;
    int threads = open_loop ? options_.connections : options_.concurrency;
    std::vector<Results> results(static_cast<std::size_t>(threads));
    auto duration = std::chrono::duration_cast<Nanos>(
        std::chrono::duration<double>(options_.duration_s));
    // Threads connect first; the load starts 300 ms from now.
    start = Clock::now() + std::chrono::milliseconds(300);
    std::uint64_t total =
        open_loop ? static_cast<std::uint64_t>(std::llround(options_.rate * options_.duration_s))
                  : 0;
    double interval_ns = open_loop ? 1e9 / options_.rate : 0;
    std::atomic<std::uint64_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        Results& mine = results[static_cast<std::size_t>(t)];
        mine.samples.reserve(open_loop ? total / static_cast<std::uint64_t>(threads) + 16 : 4096);
        Connection connection(address_, options_.timeout_s);
        std::string ignored;
        connection.open(ignored);  // failures show up on the first request
        std::this_thread::sleep_until(start);
        if (open_loop) {
          while (true) {
            std::uint64_t i = next.fetch_add(1);
            if (i >= total) break;
            auto due = start + Nanos(static_cast<std::int64_t>(std::llround(i * interval_ns)));
            std::this_thread::sleep_until(due);
            auto text = request(options_.seq_start + i);
            auto sent = Clock::now();
            Answer answer = connection.exchange(text);
            record(answer, due, sent, Clock::now(), mine);
          }
        } else {
          auto stop = start + duration;
          while (Clock::now() < stop) {
            std::uint64_t i = next.fetch_add(1);
            auto text = request(options_.seq_start + i);
            auto sent = Clock::now();
            Answer answer = connection.exchange(text);
            record(answer, sent, sent, Clock::now(), mine);
          }
        }
        mine.reconnects = connection.reconnects();
      });
    }
    for (auto& thread : pool) thread.join();
    return results;
  }

 private:
  const Options& options_;
  Template path_;
  Template body_;
  std::string head_suffix_;
  addrinfo* address_ = nullptr;
};

// --- the summary ------------------------------------------------------------------------------

double percentile_ms(const std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e6;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string fixed(double value, int digits = 3) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

int summarize(const Options& options, const std::vector<Results>& results, Clock::time_point start) {
  std::vector<std::int64_t> latencies;
  std::map<int, std::uint64_t> statuses;
  std::map<std::string, std::uint64_t> errors;
  std::uint64_t ok = 0, late = 0, body_mismatch = 0, reconnects = 0;
  std::int64_t max_lag = 0;
  double sum_ms = 0;
  Clock::time_point last_end = start;
  auto late_ns = static_cast<std::int64_t>(options.late_ms * 1e6);
  for (const auto& result : results) {
    for (const auto& sample : result.samples) {
      latencies.push_back(sample.latency_ns);
      sum_ms += static_cast<double>(sample.latency_ns) / 1e6;
      if (sample.status != 0) ++statuses[sample.status];
      if (sample.ok) ++ok;
      if (sample.lag_ns > late_ns) ++late;
      max_lag = std::max(max_lag, sample.lag_ns);
    }
    for (const auto& [message, count] : result.errors) errors[message] += count;
    body_mismatch += result.body_mismatch;
    reconnects += result.reconnects;
    last_end = std::max(last_end, result.last_end);
  }
  std::sort(latencies.begin(), latencies.end());
  std::uint64_t requests = latencies.size();
  std::uint64_t socket_errors = 0;
  for (const auto& [message, count] : errors) socket_errors += count;
  double elapsed_s = std::chrono::duration<double>(last_end - start).count();
  if (elapsed_s <= 0) elapsed_s = options.duration_s;
  bool open_loop = options.rate > 0;
  double mean_ms = requests ? sum_ms / static_cast<double>(requests) : 0;
  struct Quantile {
    const char* name;
    double q;
  };
  const Quantile quantiles[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};

  if (options.json) {
    std::string out = "{";
    out += "\"mode\":" + json_string(open_loop ? "rate" : "concurrency");
    if (open_loop) {
      out += ",\"target_rate\":" + fixed(options.rate, 1);
      out += ",\"connections\":" + std::to_string(options.connections);
    } else {
      out += ",\"concurrency\":" + std::to_string(options.concurrency);
    }
    out += ",\"duration_s\":" + fixed(options.duration_s);
    out += ",\"elapsed_s\":" + fixed(elapsed_s);
    out += ",\"requests\":" + std::to_string(requests);
    out += ",\"ok\":" + std::to_string(ok);
    out += ",\"errors\":" + std::to_string(requests - ok);
    out += ",\"socket_errors\":" + std::to_string(socket_errors);
    out += ",\"body_mismatch\":" + std::to_string(body_mismatch);
    out += ",\"reconnects\":" + std::to_string(reconnects);
    out += ",\"statuses\":{";
    bool first = true;
    for (const auto& [status, count] : statuses) {
      out += (first ? "" : ",") + json_string(std::to_string(status)) + ":" + std::to_string(count);
      first = false;
    }
    out += "},\"socket_error_kinds\":{";
    first = true;
    for (const auto& [message, count] : errors) {
      out += (first ? "" : ",") + json_string(message) + ":" + std::to_string(count);
      first = false;
    }
    out += "}";
    out += ",\"requests_per_s\":" + fixed(static_cast<double>(requests) / elapsed_s, 1);
    out += ",\"ok_per_s\":" + fixed(static_cast<double>(ok) / elapsed_s, 1);
    if (open_loop) {
      out += ",\"late\":" + std::to_string(late);
      out += ",\"late_ms\":" + fixed(options.late_ms);
      out += ",\"max_lag_ms\":" + fixed(static_cast<double>(max_lag) / 1e6);
    }
    out += ",\"latency_ms\":{\"mean\":" + fixed(mean_ms);
    for (const auto& quantile : quantiles) {
      out += ",\"" + std::string(quantile.name) + "\":" + fixed(percentile_ms(latencies, quantile.q));
    }
    out += ",\"max\":" + fixed(latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1e6);
    out += "}}";
    std::cout << out << std::endl;
  } else {
    std::cout << (open_loop ? "open loop, " + fixed(options.rate, 1) + " requests/s over " +
                                  std::to_string(options.connections) + " connections"
                            : "closed loop, " + std::to_string(options.concurrency) +
                                  " connections")
              << ", " << fixed(options.duration_s, 1) << " s (elapsed " << fixed(elapsed_s) << " s)\n";
    std::cout << "  requests " << requests << ", ok " << ok << ", errors " << requests - ok
              << " (socket " << socket_errors << ", body mismatch " << body_mismatch << "), resent after an idle close " << reconnects << "\n";
    std::cout << "  statuses";
    for (const auto& [status, count] : statuses) std::cout << " " << status << "=" << count;
    std::cout << "\n";
    for (const auto& [message, count] : errors) std::cout << "  socket error: " << message << " x" << count << "\n";
    std::cout << "  requests/s " << fixed(static_cast<double>(requests) / elapsed_s, 1) << ", ok/s "
              << fixed(static_cast<double>(ok) / elapsed_s, 1) << "\n";
    if (open_loop) {
      std::cout << "  late (sent > " << fixed(options.late_ms, 1) << " ms after due) " << late
                << ", max lag " << fixed(static_cast<double>(max_lag) / 1e6) << " ms\n";
    }
    std::cout << "  latency ms" << (open_loop ? " (from the scheduled time)" : "") << ": mean "
              << fixed(mean_ms);
    for (const auto& quantile : quantiles) {
      std::cout << ", " << quantile.name << " " << fixed(percentile_ms(latencies, quantile.q));
    }
    std::cout << ", max "
              << fixed(latencies.empty() ? 0 : static_cast<double>(latencies.back()) / 1e6) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  Load load(options);
  Clock::time_point start;
  auto results = load.run(start);
  return summarize(options, results, start);
}
