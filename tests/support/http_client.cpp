#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace tidemark::testing {

std::string HttpReply::header(const std::string& lower_case_name) const {
  auto found = headers.find(lower_case_name);
  return found == headers.end() ? std::string() : found->second;
}

HttpClient::~HttpClient() {
  disconnect();
}

void HttpClient::disconnect() {
  if (socket_ >= 0) ::close(socket_);
  socket_ = -1;
  buffered_.clear();
}

void HttpClient::ensure_connected() {
  if (socket_ >= 0) return;
  socket_ = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{30, 0};  // no test waits longer than this for an answer
  ::setsockopt(socket_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port_);
  if (::connect(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    disconnect();
    throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port_));
  }
  ++connections_opened_;
}

HttpReply HttpClient::request(const std::string& method, const std::string& target,
                              const std::string& body,
                              const std::map<std::string, std::string>& request_headers) {
  std::map<std::string, std::string> headers = default_headers_;
  for (const auto& [name, value] : request_headers) headers[name] = value;
  // A server may close an idle kept-alive connection; retry once on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    ensure_connected();
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      if (headers.find("Content-Type") == headers.end()) {
        request += "Content-Type: application/json\r\n";
      }
    }
    request += "\r\n" + body;
    bool sent = true;
    for (std::size_t offset = 0; offset < request.size();) {
      ssize_t written =
          ::send(socket_, request.data() + offset, request.size() - offset, MSG_NOSIGNAL);
      if (written <= 0) {
        sent = false;
        break;
      }
      offset += static_cast<std::size_t>(written);
    }
    auto read_more = [this]() {
      char chunk[16384];
      ssize_t count = ::recv(socket_, chunk, sizeof chunk, 0);
      if (count <= 0) return false;
      buffered_.append(chunk, static_cast<std::size_t>(count));
      return true;
    };
    std::size_t header_end = std::string::npos;
    bool open = sent;
    while (open && (header_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
      open = read_more();
    }
    if (header_end == std::string::npos) {
      disconnect();
      if (attempt == 0 && sent) continue;
      throw std::runtime_error("connection closed before a response to " + method + " " + target);
    }
    HttpReply reply;
    std::string head = buffered_.substr(0, header_end);
    reply.status = std::stoi(head.substr(head.find(' ') + 1, 3));
    for (std::size_t line_start = head.find("\r\n"); line_start != std::string::npos;) {
      line_start += 2;
      std::size_t line_end = head.find("\r\n", line_start);
      std::string line = head.substr(line_start, line_end - line_start);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        reply.headers[name] = value;
      }
      line_start = line_end;
    }
    std::size_t length =
        reply.headers.count("content-length") ? std::stoul(reply.headers["content-length"]) : 0;
    while (buffered_.size() < header_end + 4 + length && read_more()) {
    }
    reply.body = buffered_.substr(header_end + 4, length);
    buffered_.erase(0, header_end + 4 + length);
    std::string connection = reply.header("connection");
    std::transform(connection.begin(), connection.end(), connection.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (connection == "close") disconnect();
    return reply;
  }
  throw std::runtime_error("unreachable");
}

}  // namespace tidemark::testing
