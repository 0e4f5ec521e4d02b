#pragma once

#include <optional>
#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <vector>

namespace tidemark::projections {

/// One SQL file as embedded at build time: `NNNN_name.up.sql` or `NNNN_name.down.sql`.
struct MigrationFile {
  std::string file_name;
  std::string sql;
};
const std::vector<MigrationFile>& embedded_migration_files();

struct Migration {
  int version = 0;
  std::string name;
  std::string up_sql;
  std::string down_sql;
};

class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Pairs up and down files by number; a missing half, a gap or a bad name is an error.
std::vector<Migration> load_migrations(const std::vector<MigrationFile>& files);

struct MigrationStatus {
  int version;
  std::string name;
  bool applied;
};

/// Applies or reverts numbered migrations, each in its own transaction, recorded in
/// `schema_migrations`, under a PostgreSQL advisory lock so concurrent starts take turns.
class Migrator {
 public:
  explicit Migrator(std::vector<Migration> migrations) : migrations_(std::move(migrations)) {}

  /// Applies every pending migration (up to `target` when given); returns how many ran.
  int up(pqxx::connection& connection, std::optional<int> target = std::nullopt) const;
  /// Reverts applied migrations above `target` (default: only the latest); returns how many.
  int down(pqxx::connection& connection, std::optional<int> target = std::nullopt) const;
  std::vector<MigrationStatus> status(pqxx::connection& connection) const;

 private:
  std::vector<Migration> migrations_;
};

}  // namespace tidemark::projections
