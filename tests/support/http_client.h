#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace tidemark::testing {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;

  std::string header(const std::string& lower_case_name) const;
};

/// A minimal HTTP/1.1 client over one loopback connection, reused between requests the way a
/// mobile client would. It sends no `Connection` header unless given one.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port) : port_(port) {}
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::map<std::string, std::string>& headers = {});
  HttpReply get(const std::string& target) { return request("GET", target); }
  HttpReply post(const std::string& target, const std::string& body,
                 const std::map<std::string, std::string>& headers = {}) {
    return request("POST", target, body, headers);
  }

  /// Sends `name: value` with every later request (a request's own headers win).
  void set_default_header(const std::string& name, const std::string& value) {
    default_headers_[name] = value;
  }

  /// How many TCP connections this client has opened so far.
  int connections_opened() const { return connections_opened_; }

 private:
  void ensure_connected();
  void disconnect();

  std::uint16_t port_;
  int socket_ = -1;
  int connections_opened_ = 0;
  std::string buffered_;
  std::map<std::string, std::string> default_headers_;
};

}  // namespace tidemark::testing
