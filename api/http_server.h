#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/router.h"

namespace Pistache::Http {
class Endpoint;
}

namespace tidemark::api {

/// The HTTP front: Pistache underneath, our Router on top. It keeps HTTP/1.1 connections
/// open unless the client asks to close (Debian's Pistache 0.0.5 closes them otherwise),
/// refuses bodies over `max_body_bytes` with a JSON 413, stamps every response with a request
/// id and security headers, answers CORS for the configured origins (preflights included), and
/// counts requests in flight so shutdown can drain them. With a certificate it serves HTTPS
/// only (Pistache's OpenSSL support) and adds Strict-Transport-Security to every response.
class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    int threads = 2;
    std::size_t max_body_bytes = 1 << 20;     ///< JSON and form bodies
    std::size_t max_upload_bytes = 16 << 20;  ///< other media types: uploaded recordings
    /// Browser origins allowed to call the API (CORS); empty allows none.
    std::vector<std::string> cors_origins;
    /// PEM certificate (chain) and unencrypted key: serve HTTPS. Both empty: plain HTTP.
    std::string tls_cert_file{};
    std::string tls_key_file{};
  };

  HttpServer(Options options, std::shared_ptr<const Router> router);
  ~HttpServer();

  /// Listens and serves on background threads; returns the bound port. Throws
  /// infra::ConfigError when the certificate and key do not make a pair.
  std::uint16_t start();
  /// Refuses new requests with 503, waits up to `timeout` for those in flight, then closes.
  void drain_and_stop(std::chrono::milliseconds timeout);

  std::size_t in_flight() const;

  struct State;

 private:
  Options options_;
  std::shared_ptr<State> state_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

}  // namespace tidemark::api
