#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace tidemark::infra {

/// Failure to create, start or stop a local PostgreSQL cluster; the message says which step
/// failed and includes the tail of the server log when there is one.
class LocalPostgresError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A PostgreSQL 15 cluster in a folder of our own, for `tidemark dev` and integration tests.
///
/// `start()` runs initdb when the folder holds no cluster yet (a second start reuses the data),
/// then pg_ctl start on 127.0.0.1 only, on `port` (0 picks a free loopback port, which later
/// restarts of this object keep), with the
/// Unix socket inside the folder, and creates `database` if missing. `stop()` (also run by
/// the destructor) stops the server with pg_ctl's fast mode and waits for it.
///
/// initdb and pg_ctl refuse to run as root: when the process is root, they run as the
/// unprivileged `postgres` account (via runuser), which is given the folder; otherwise they run
/// as the current user. The server binaries are found in /usr/lib/postgresql/15/bin unless
/// `bin_dir` says otherwise.
///
/// With `ssl_cert_file` and `ssl_key_file` the server also accepts TLS (`ssl=on`): start() copies
/// them into the cluster as server.crt and server.key (mode 0600, owned by the server's account).
class LocalPostgres {
 public:
  struct Options {
    std::filesystem::path data_dir;  ///< the cluster lives in data_dir/pgdata
    std::uint16_t port = 0;
    std::string database = "tidemark";
    std::filesystem::path bin_dir = "/usr/lib/postgresql/15/bin";
    std::filesystem::path ssl_cert_file{};  ///< PEM; empty: no TLS
    std::filesystem::path ssl_key_file{};   ///< PEM, unencrypted
  };

  explicit LocalPostgres(Options options);
  ~LocalPostgres();
  LocalPostgres(const LocalPostgres&) = delete;
  LocalPostgres& operator=(const LocalPostgres&) = delete;

  void start();
  void stop();
  bool running() const { return running_; }

  std::uint16_t port() const { return port_; }
  /// A libpq URL for `database`. It names the Unix socket inside the folder, e.g.
  /// postgresql://tidemark@/tidemark?host=%2Fdata%2Fpostgres%2Fsocket&port=54321: a round trip
  /// there costs both sides less CPU than over loopback TCP (docs/architecture-notes.md). It names
  /// 127.0.0.1 instead when TLS is on (libpq never uses TLS on a Unix socket) or when the
  /// socket had to go to a temporary folder, whose name a restart would change.
  std::string url() const;
  /// The same for another database of this cluster (tests create one each).
  std::string url_for(const std::string& database) const;

 private:
  Options options_;
  std::uint16_t port_ = 0;
  /// The socket folder clients are given, empty when they are given 127.0.0.1 (see url()).
  std::string client_socket_dir_;
  bool running_ = false;
};

}  // namespace tidemark::infra
