#include "projections/migrations.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using tidemark::projections::embedded_migration_files;
using tidemark::projections::load_migrations;
using tidemark::projections::Migration;
using tidemark::projections::MigrationError;
using tidemark::projections::MigrationFile;

namespace {

/// The MigrationError message of loading `files`, or "" when loading succeeds.
std::string load_error(const std::vector<MigrationFile>& files) {
  try {
    load_migrations(files);
  } catch (const MigrationError& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

}  // namespace

TEST(EmbeddedMigrations, LoadAsVersionsOneToNInOrderWithBothHalves) {
  const auto& files = embedded_migration_files();
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.size() % 2, 0u) << "every migration has an up and a down file";
  std::vector<Migration> migrations = load_migrations(files);
  ASSERT_EQ(migrations.size(), files.size() / 2);
  std::set<std::string> names;
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    const Migration& migration = migrations[i];
    EXPECT_EQ(migration.version, static_cast<int>(i + 1));
    EXPECT_FALSE(migration.name.empty());
    EXPECT_TRUE(names.insert(migration.name).second) << "duplicate name " << migration.name;
    EXPECT_NE(migration.up_sql.find_first_not_of(" \t\r\n"), std::string::npos)
        << migration.name << " has a blank up file";
    EXPECT_NE(migration.down_sql.find_first_not_of(" \t\r\n"), std::string::npos)
        << migration.name << " has a blank down file";
    EXPECT_NE(migration.up_sql, migration.down_sql) << migration.name;
  }
}

TEST(EmbeddedMigrations, IncludeTheKnownFirstMigrations) {
  std::vector<Migration> migrations = load_migrations(embedded_migration_files());
  ASSERT_GE(migrations.size(), 2u);
  EXPECT_EQ(migrations[0].name, "projection_offsets");
  EXPECT_EQ(migrations[1].name, "event_log");
}

TEST(EmbeddedMigrations, FileNamesFollowTheConvention) {
  for (const auto& file : embedded_migration_files()) {
    EXPECT_TRUE(file.file_name.ends_with(".up.sql") || file.file_name.ends_with(".down.sql"))
        << file.file_name;
    EXPECT_FALSE(file.sql.empty()) << file.file_name;
  }
}

TEST(LoadMigrations, PairsFilesInAnyOrder) {
  std::vector<Migration> migrations = load_migrations({
      {"0002_second.down.sql", "DROP TABLE b;"},
      {"0001_first.up.sql", "CREATE TABLE a ();"},
      {"0002_second.up.sql", "CREATE TABLE b ();"},
      {"0001_first.down.sql", "DROP TABLE a;"},
  });
  ASSERT_EQ(migrations.size(), 2u);
  EXPECT_EQ(migrations[0].version, 1);
  EXPECT_EQ(migrations[0].name, "first");
  EXPECT_EQ(migrations[0].up_sql, "CREATE TABLE a ();");
  EXPECT_EQ(migrations[0].down_sql, "DROP TABLE a;");
  EXPECT_EQ(migrations[1].version, 2);
  EXPECT_EQ(migrations[1].name, "second");
  EXPECT_EQ(migrations[1].up_sql, "CREATE TABLE b ();");
  EXPECT_EQ(migrations[1].down_sql, "DROP TABLE b;");
}

TEST(LoadMigrations, NoFilesIsNoMigrations) {
  EXPECT_TRUE(load_migrations({}).empty());
}

TEST(LoadMigrations, MissingDownFileThrows) {
  std::vector<MigrationFile> files = {{"0001_first.up.sql", "CREATE TABLE a ();"}};
  EXPECT_THROW(load_migrations(files), MigrationError);
  EXPECT_TRUE(contains(load_error(files), "needs both an up and a down file")) << load_error(files);
}

TEST(LoadMigrations, MissingUpFileThrows) {
  std::vector<MigrationFile> files = {{"0001_first.up.sql", "CREATE TABLE a ();"},
                                      {"0001_first.down.sql", "DROP TABLE a;"},
                                      {"0002_second.down.sql", "DROP TABLE b;"}};
  std::string error = load_error(files);
  EXPECT_TRUE(contains(error, "migration 2 needs both")) << error;
}

TEST(LoadMigrations, BadFileNamesThrowNamingTheFile) {
  for (const char* name :
       {"1_first.up.sql", "0001-first.up.sql", "0001_First.up.sql", "0001_first.sql",
        "0001_first.UP.sql", "0001_first.up.sql.bak", "0001_.up.sql", "00001_first.up.sql",
        "0001_first.sideways.sql", "README.md", "0001_fir st.up.sql"}) {
    std::vector<MigrationFile> files = {{name, "SELECT 1;"}};
    std::string error = load_error(files);
    EXPECT_TRUE(contains(error, std::string("'") + name + "'")) << name << ": " << error;
  }
}

TEST(LoadMigrations, GapInNumberingThrows) {
  std::vector<MigrationFile> files = {
      {"0001_first.up.sql", "u1"},
      {"0001_first.down.sql", "d1"},
      {"0003_third.up.sql", "u3"},
      {"0003_third.down.sql", "d3"},
  };
  EXPECT_THROW(load_migrations(files), MigrationError);
  EXPECT_TRUE(contains(load_error(files), "migration 2 is missing")) << load_error(files);
}

TEST(LoadMigrations, NumberingMustStartAtOne) {
  std::vector<MigrationFile> from_two = {{"0002_second.up.sql", "u"},
                                         {"0002_second.down.sql", "d"}};
  EXPECT_TRUE(contains(load_error(from_two), "migration 1 is missing")) << load_error(from_two);
  std::vector<MigrationFile> from_zero = {{"0000_zero.up.sql", "u"},
                                          {"0000_zero.down.sql", "d"},
                                          {"0001_one.up.sql", "u"},
                                          {"0001_one.down.sql", "d"}};
  EXPECT_THROW(load_migrations(from_zero), MigrationError);
}

TEST(LoadMigrations, TwoNamesForOneVersionThrow) {
  std::vector<MigrationFile> files = {{"0001_first.up.sql", "u"}, {"0001_other.down.sql", "d"}};
  std::string error = load_error(files);
  EXPECT_TRUE(contains(error, "migration 0001 has two names")) << error;
}
