#include "projections/migrations.h"

#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <set>

#include "infra/log.h"

namespace tidemark::projections {
namespace {

// Any constant will do as long as every Tidemark process uses the same one.
constexpr long long kMigrationLockId = 0x7469'6465'6d61'726bLL;  // "tidemark"

constexpr const char* kCreateHistory =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

/// Holds the advisory lock for its lifetime, so concurrent starts apply migrations one at a time.
class MigrationLock {
 public:
  explicit MigrationLock(pqxx::connection& connection) : connection_(connection) {
    pqxx::nontransaction(connection_).exec_params("SELECT pg_advisory_lock($1)", kMigrationLockId);
    pqxx::nontransaction(connection_).exec(kCreateHistory);
  }
  ~MigrationLock() {
    try {
      pqxx::nontransaction(connection_)
          .exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockId);
    } catch (...) {
      // The lock dies with the session anyway.
    }
  }

 private:
  pqxx::connection& connection_;
};

std::set<int> applied_versions(pqxx::connection& connection) {
  pqxx::nontransaction read(connection);
  std::set<int> versions;
  for (const auto& row : read.exec("SELECT version FROM schema_migrations")) {
    versions.insert(row[0].as<int>());
  }
  return versions;
}

}  // namespace

std::vector<Migration> load_migrations(const std::vector<MigrationFile>& files) {
  static const std::regex kName(R"(^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$)");
  std::map<int, Migration> by_version;
  for (const auto& file : files) {
    std::smatch match;
    if (!std::regex_match(file.file_name, match, kName)) {
      throw MigrationError("migration file '" + file.file_name +
                           "' is not named NNNN_name.up.sql or NNNN_name.down.sql");
    }
    int version = std::stoi(match[1]);
    Migration& migration = by_version[version];
    if (!migration.name.empty() && migration.name != match[2]) {
      throw MigrationError("migration " + match[1].str() + " has two names");
    }
    migration.version = version;
    migration.name = match[2];
    (match[3] == "up" ? migration.up_sql : migration.down_sql) = file.sql;
  }
  std::vector<Migration> migrations;
  int expected = 1;
  for (auto& [version, migration] : by_version) {
    if (version != expected) {
      throw MigrationError("migration " + std::to_string(expected) + " is missing");
    }
    if (migration.up_sql.empty() || migration.down_sql.empty()) {
      throw MigrationError("migration " + std::to_string(version) +
                           " needs both an up and a down file");
    }
    migrations.push_back(std::move(migration));
    ++expected;
  }
  return migrations;
}

int Migrator::up(pqxx::connection& connection, std::optional<int> target) const {
  MigrationLock lock(connection);
  auto applied = applied_versions(connection);
  int count = 0;
  for (const auto& migration : migrations_) {
    if (applied.contains(migration.version)) continue;
    if (target && migration.version > *target) break;
    pqxx::work transaction(connection);
    transaction.exec(migration.up_sql);
    transaction.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version, migration.name);
    transaction.commit();
    infra::log_info("migration applied",
                    {{"version", std::to_string(migration.version)}, {"name", migration.name}});
    ++count;
  }
  return count;
}

int Migrator::down(pqxx::connection& connection, std::optional<int> target) const {
  MigrationLock lock(connection);
  auto applied = applied_versions(connection);
  if (applied.empty()) return 0;
  int floor = target.value_or(*applied.rbegin() - 1);
  int count = 0;
  for (auto migration = migrations_.rbegin(); migration != migrations_.rend(); ++migration) {
    if (migration->version <= floor || !applied.contains(migration->version)) continue;
    pqxx::work transaction(connection);
    transaction.exec(migration->down_sql);
    transaction.exec_params("DELETE FROM schema_migrations WHERE version = $1", migration->version);
    transaction.commit();
    infra::log_info("migration reverted",
                    {{"version", std::to_string(migration->version)}, {"name", migration->name}});
    ++count;
  }
  return count;
}

std::vector<MigrationStatus> Migrator::status(pqxx::connection& connection) const {
  pqxx::nontransaction(connection).exec(kCreateHistory);
  auto applied = applied_versions(connection);
  std::vector<MigrationStatus> result;
  for (const auto& migration : migrations_) {
    result.push_back({migration.version, migration.name, applied.contains(migration.version)});
  }
  return result;
}

}  // namespace tidemark::projections
