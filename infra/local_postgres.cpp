#include "infra/local_postgres.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

extern char** environ;

namespace tidemark::infra {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSuperuser = "tidemark";
constexpr const char* kTmpSocketPrefix = "/tmp/tidemark-pg-";
constexpr std::size_t kLogTailLines = 20;
// sun_path holds 108 bytes including the NUL; postgres appends "/.s.PGSQL.<port>".
constexpr std::size_t kMaxSocketPath = 107;
constexpr std::size_t kSocketSuffix = std::char_traits<char>::length("/.s.PGSQL.65535");

[[noreturn]] void fail(const std::string& message) {
  throw LocalPostgresError("local postgres: " + message);
}

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

struct Account {
  uid_t uid;
  gid_t gid;
  std::vector<gid_t> groups;
};

Account look_up_postgres_account() {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int err = 0;
  while ((err = getpwnam_r("postgres", &pw, buf.data(), buf.size(), &found)) == ERANGE) {
    buf.resize(buf.size() * 2);
  }
  if (err != 0 || found == nullptr) {
    fail("running as root, but there is no `postgres` system account to run initdb/pg_ctl as" +
         (err != 0 ? " (" + errno_text(err) + ")" : std::string()));
  }
  Account account{pw.pw_uid, pw.pw_gid, {}};
  int count = 32;
  for (;;) {
    account.groups.resize(static_cast<std::size_t>(count));
    int n = count;
    if (getgrouplist(pw.pw_name, pw.pw_gid, account.groups.data(), &n) >= 0) {
      account.groups.resize(static_cast<std::size_t>(n));
      break;
    }
    count = std::max(n, count * 2);
  }
  return account;
}

// Plain mode-bit check (ACLs ignored): the postgres account must be able to reach data_dir.
void check_traversable(const fs::path& dir, const Account& account) {
  fs::path current;
  for (const fs::path& part : dir) {
    current /= part;
    struct stat st {};
    if (::stat(current.c_str(), &st) != 0) {
      fail("cannot stat " + current.string() + ": " + errno_text(errno));
    }
    mode_t need = S_IXOTH;
    if (st.st_uid == account.uid) {
      need = S_IXUSR;
    } else if (std::find(account.groups.begin(), account.groups.end(), st.st_gid) !=
               account.groups.end()) {
      need = S_IXGRP;
    }
    if ((st.st_mode & need) == 0) {
      std::ostringstream mode;
      mode << std::oct << (st.st_mode & 07777);
      fail("data_dir " + dir.string() + " is not reachable by the `postgres` account that runs " +
           "the server when we are root: " + current.string() + " (mode 0" + mode.str() +
           ") is not searchable by it; use a folder under /tmp or `chmod o+x` the parents");
    }
  }
}

void chown_to(const fs::path& path, const Account& account) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    fail("cannot stat " + path.string() + ": " + errno_text(errno));
  if (st.st_uid == account.uid && st.st_gid == account.gid) return;
  if (::lchown(path.c_str(), account.uid, account.gid) != 0) {
    fail("cannot chown " + path.string() + " to postgres: " + errno_text(errno));
  }
}

void chown_tree_to(const fs::path& root, const Account& account) {
  chown_to(root, account);
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec);
  if (ec) fail("cannot list " + root.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    chown_to(it->path(), account);
  }
  if (ec) fail("cannot list " + root.string() + ": " + ec.message());
}

// Creates `dir` and its missing parents; as root, new folders get 0755 so that the postgres
// account can traverse them regardless of our umask.
void create_traversable_directories(const fs::path& dir, bool as_root) {
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty() && !fs::exists(p); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail("cannot create " + dir.string() + ": " + ec.message());
  if (!as_root) return;
  for (const fs::path& p : missing) {
    fs::permissions(p, fs::perms(0755), ec);
    if (ec) fail("cannot chmod " + p.string() + ": " + ec.message());
  }
}

std::uintmax_t size_or_zero(const fs::path& path) {
  std::error_code ec;
  std::uintmax_t size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// The last lines written to `path` since `offset` (all of its tail when nothing new was written).
std::string log_tail(const fs::path& path, std::uintmax_t offset) {
  constexpr std::uintmax_t kMaxRead = 64 * 1024;
  std::uintmax_t size = size_or_zero(path);
  if (offset >= size) offset = size > kMaxRead ? size - kMaxRead : 0;
  if (size - offset > kMaxRead) offset = size - kMaxRead;
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path.string() + ")";
  in.seekg(static_cast<std::streamoff>(offset));
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > kLogTailLines) lines.pop_front();
  }
  std::string out = "last lines of " + path.string() + ":";
  for (const std::string& line : lines) out += "\n  " + line;
  return out;
}

// Runs argv[0] (an absolute path) with stdin from /dev/null and stdout+stderr appended to
// `log`; returns the exit code (128+signal when killed). posix_spawn: safe in threaded callers.
int run_process(const std::vector<std::string>& args, const fs::path& log, bool truncate_log,
                const fs::path& cwd) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(
      &actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND | (truncate_log ? O_TRUNC : 0), 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  // The server outlives us: don't let it inherit our sockets and files.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t mask;
  sigemptyset(&mask);
  posix_spawnattr_setsigmask(&attr, &mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  int err = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (err != 0) fail("cannot run " + args[0] + ": " + errno_text(err));

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("waiting for " + args[0] + ": " + errno_text(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// pg_ctl wraps -D and -l in double quotes inside a shell command of its own.
void check_shell_safe(const fs::path& path) {
  if (path.string().find_first_of("\"\\$`\n") != std::string::npos) {
    fail("data_dir " + path.string() + " contains a character pg_ctl cannot quote (\" \\ $ `)");
  }
}

std::uint16_t pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket(): " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    fail("cannot pick a free loopback port: " + errno_text(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Line n (1-based) of pgdata/postmaster.pid: 1 is the postmaster pid, 5 the socket folder.
std::optional<std::string> pid_file_line(const fs::path& pgdata, int n) {
  std::ifstream in(pgdata / "postmaster.pid");
  std::string line;
  for (int i = 0; i < n; ++i) {
    if (!std::getline(in, line)) return std::nullopt;
  }
  return line;
}

// True when postmaster.pid names a live postmaster of this very folder. The pid alone is not
// enough: after a reboot or in a container it is often reused by an unrelated process.
bool live_postmaster(const fs::path& pgdata) {
  std::optional<std::string> line = pid_file_line(pgdata, 1);
  if (!line) return false;
  char* end = nullptr;
  long pid = std::strtol(line->c_str(), &end, 10);
  if (end == line->c_str() || pid <= 0) return false;
  std::error_code ec;
  fs::path cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  return !ec && fs::equivalent(cwd, pgdata, ec) && !ec;
}

void remove_tmp_socket_dir(const std::optional<std::string>& dir) {
  if (!dir || !dir->starts_with(kTmpSocketPrefix)) return;
  std::error_code ec;
  fs::remove_all(*dir, ec);
}

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, PgConnDeleter>;
using Result = std::unique_ptr<PGresult, PgResultDeleter>;

void ensure_database(std::uint16_t port, const std::string& database) {
  const std::string port_text = std::to_string(port);
  const char* keys[] = {"host",    "port",       "user", "dbname", "connect_timeout",
                        "sslmode", "gssencmode", nullptr};
  const char* values[] = {"127.0.0.1", port_text.c_str(), kSuperuser, "postgres",
                          "10",        "disable",         "disable",  nullptr};
  Conn conn(PQconnectdbParams(keys, values, 0));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    fail("create database: cannot connect on port " + port_text + ": " +
         (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  const char* params[] = {database.c_str()};
  Result found(PQexecParams(conn.get(), "SELECT 1 FROM pg_database WHERE datname = $1", 1, nullptr,
                            params, nullptr, nullptr, 0));
  if (PQresultStatus(found.get()) != PGRES_TUPLES_OK) {
    fail("create database: lookup failed: " + std::string(PQerrorMessage(conn.get())));
  }
  if (PQntuples(found.get()) > 0) return;

  char* ident = PQescapeIdentifier(conn.get(), database.data(), database.size());
  if (ident == nullptr) {
    fail("create database: bad name: " + std::string(PQerrorMessage(conn.get())));
  }
  const std::string sql = "CREATE DATABASE " + std::string(ident);
  PQfreemem(ident);
  Result created(PQexec(conn.get(), sql.c_str()));
  if (PQresultStatus(created.get()) != PGRES_COMMAND_OK) {
    const char* state = PQresultErrorField(created.get(), PG_DIAG_SQLSTATE);
    if (state != nullptr && std::strcmp(state, "42P04") == 0) return;  // created meanwhile
    fail("create database " + database + " failed: " + PQerrorMessage(conn.get()));
  }
}

std::string percent_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string runuser_path() {
  for (const char* path : {"/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  fail("running as root, but runuser (util-linux) is missing; it runs initdb/pg_ctl as postgres");
}

// Everything one start/stop needs, derived from the options and the process identity.
struct Layout {
  fs::path data_dir;
  fs::path pgdata;
  fs::path server_log;
  fs::path initdb_log;
  fs::path initdb;
  fs::path pg_ctl;
  std::optional<Account> account;  // set when we are root and act through `postgres`

  std::vector<std::string> Command(const fs::path& tool, std::vector<std::string> args) const {
    std::vector<std::string> argv;
    if (account) argv = {runuser_path(), "-u", "postgres", "--"};
    argv.push_back(tool.string());
    for (std::string& arg : args) argv.push_back(std::move(arg));
    return argv;
  }

  void run_step(const std::string& step, const fs::path& tool, std::vector<std::string> args,
                const fs::path& log, bool truncate_log) const {
    std::uintmax_t offset = truncate_log ? 0 : size_or_zero(log);
    int code = run_process(Command(tool, std::move(args)), log, truncate_log, data_dir);
    if (code != 0) {
      fail(step + " failed (exit code " + std::to_string(code) + "); " + log_tail(log, offset));
    }
  }

  void Stop() const {
    std::optional<std::string> socket_dir = pid_file_line(pgdata, 5);
    run_step("pg_ctl stop", pg_ctl, {"-D", pgdata.string(), "-m", "fast", "-w", "-t", "60", "stop"},
             server_log, false);
    remove_tmp_socket_dir(socket_dir);
  }
};

Layout make_layout(const LocalPostgres::Options& options, bool create) {
  if (options.data_dir.empty()) fail("data_dir is empty");
  Layout layout;
  const bool root = ::geteuid() == 0;
  if (root) layout.account = look_up_postgres_account();
  fs::path dir = fs::absolute(options.data_dir).lexically_normal();
  if (create) create_traversable_directories(dir, root);
  std::error_code ec;
  layout.data_dir = fs::canonical(dir, ec);
  if (ec) fail("data_dir " + dir.string() + ": " + ec.message());
  layout.pgdata = layout.data_dir / "pgdata";
  layout.server_log = layout.data_dir / "postgres.log";
  layout.initdb_log = layout.data_dir / "initdb.log";
  layout.initdb = options.bin_dir / "initdb";
  layout.pg_ctl = options.bin_dir / "pg_ctl";
  return layout;
}

}  // namespace

LocalPostgres::LocalPostgres(Options options) : options_(std::move(options)) {}

LocalPostgres::~LocalPostgres() {
  try {
    stop();
  } catch (...) {
    // Destructors must not throw; a server left behind is stopped by the next start().
  }
}

void LocalPostgres::start() {
  if (running_) return;
  const Layout layout = make_layout(options_, true);
  check_shell_safe(layout.data_dir);
  if (layout.account) check_traversable(layout.data_dir, *layout.account);
  for (const fs::path& tool : {layout.initdb, layout.pg_ctl}) {
    if (::access(tool.c_str(), X_OK) != 0) fail("missing PostgreSQL binary " + tool.string());
  }

  // Short socket folder inside data_dir when it fits, else a private one under /tmp (not
  // $TMPDIR, which may be long or closed to the postgres account); stop() finds it again in
  // postmaster.pid.
  fs::path socket_dir = layout.data_dir / "socket";
  const bool tmp_socket = socket_dir.string().size() + kSocketSuffix > kMaxSocketPath;
  std::error_code ec;

  // A server left running on this folder (a crashed dev run that never called stop()) is
  // stopped and started afresh rather than reused: we then own its port, socket and options.
  if (fs::exists(layout.pgdata / "postmaster.pid")) {
    if (live_postmaster(layout.pgdata)) {
      layout.Stop();
    } else {
      fs::remove(layout.pgdata / "postmaster.pid", ec);  // stale; its pid may now be reused
    }
  }

  if (!fs::exists(layout.pgdata / "PG_VERSION")) {
    // No PG_VERSION means an interrupted initdb, whose leftovers initdb would refuse.
    fs::remove_all(layout.pgdata, ec);
    if (ec) fail("cannot clear partial cluster " + layout.pgdata.string() + ": " + ec.message());
    if (layout.account) {
      // The postgres account may not write data_dir itself, so it gets an empty pgdata.
      if (::mkdir(layout.pgdata.c_str(), 0700) != 0) {
        fail("cannot create " + layout.pgdata.string() + ": " + errno_text(errno));
      }
      chown_to(layout.pgdata, *layout.account);
    }
    layout.run_step("initdb", layout.initdb,
                    {"-D", layout.pgdata.string(), "-U", kSuperuser, "--auth=trust",
                     "--encoding=UTF8", "--locale=C.UTF-8"},
                    layout.initdb_log, true);
  }

  if (tmp_socket) {
    std::string templ = std::string(kTmpSocketPrefix) + "XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) fail("mkdtemp: " + errno_text(errno));
    socket_dir = templ;
  } else {
    fs::create_directories(socket_dir, ec);
    if (ec) fail("cannot create " + socket_dir.string() + ": " + ec.message());
    // No server runs here now, so whatever is left is stale (locks may name reused pids).
    for (const fs::directory_entry& entry : fs::directory_iterator(socket_dir, ec)) {
      fs::remove(entry.path(), ec);
    }
  }
  {
    std::ofstream touch(layout.server_log, std::ios::app);
    if (!touch) fail("cannot write " + layout.server_log.string());
  }
  const bool ssl = !options_.ssl_cert_file.empty() || !options_.ssl_key_file.empty();
  if (ssl) {
    // PostgreSQL refuses a key that others can read; chown_tree_to below hands both over.
    for (const auto& [source, name] : {std::pair{options_.ssl_cert_file, "server.crt"},
                                       std::pair{options_.ssl_key_file, "server.key"}}) {
      if (source.empty()) fail("ssl_cert_file and ssl_key_file go together");
      fs::copy_file(source, layout.pgdata / name, fs::copy_options::overwrite_existing, ec);
      if (ec) fail("cannot copy " + source.string() + " into the cluster: " + ec.message());
      fs::permissions(layout.pgdata / name, fs::perms::owner_read | fs::perms::owner_write, ec);
      if (ec) fail("cannot chmod " + (layout.pgdata / name).string() + ": " + ec.message());
    }
  }
  if (layout.account) {
    chown_tree_to(layout.pgdata, *layout.account);
    chown_to(socket_dir, *layout.account);
    chown_to(layout.server_log, *layout.account);
  }

  // A picked port can be taken by someone else before postgres binds it: pick again then.
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    const std::uint16_t port = options_.port != 0 ? options_.port : pick_free_port();
    const std::string server_options = "-p " + std::to_string(port) + " -k " +
                                       shell_quote(socket_dir.string()) +
                                       " -c listen_addresses=127.0.0.1" + (ssl ? " -c ssl=on" : "");
    const std::uintmax_t offset = size_or_zero(layout.server_log);
    try {
      layout.run_step("pg_ctl start", layout.pg_ctl,
                      {"-D", layout.pgdata.string(), "-l", layout.server_log.string(), "-w", "-t",
                       "60", "-o", server_options, "start"},
                      layout.server_log, false);
      port_ = port;
      options_.port = port;  // a restart keeps the address clients were given
      client_socket_dir_ = tmp_socket || ssl ? "" : socket_dir.string();
      break;
    } catch (const LocalPostgresError&) {
      const std::string tail = log_tail(layout.server_log, offset);
      if (options_.port != 0 || attempt == kAttempts ||
          tail.find("Address already in use") == std::string::npos) {
        if (tmp_socket) remove_tmp_socket_dir(socket_dir.string());
        throw;
      }
    }
  }
  running_ = true;

  try {
    ensure_database(port_, options_.database);
  } catch (...) {
    try {
      stop();
    } catch (...) {
      // Report the first failure.
    }
    throw;
  }
}

void LocalPostgres::stop() {
  if (!running_) return;
  running_ = false;
  make_layout(options_, false).Stop();
}

std::string LocalPostgres::url() const {
  return url_for(options_.database);
}

std::string LocalPostgres::url_for(const std::string& database) const {
  if (!client_socket_dir_.empty()) {
    return std::string("postgresql://") + kSuperuser + "@/" + percent_encode(database) +
           "?host=" + percent_encode(client_socket_dir_) + "&port=" + std::to_string(port_);
  }
  return std::string("postgresql://") + kSuperuser + "@127.0.0.1:" + std::to_string(port_) + "/" +
         percent_encode(database);
}

}  // namespace tidemark::infra
