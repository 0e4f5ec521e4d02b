#include "api/sql_filters.h"

#include <gtest/gtest.h>

#include "infra/database.h"

namespace tidemark::api {
namespace {

TEST(SqlFilters, OnlyTheGivenFiltersNumberedInOrder) {
  SqlFilters filters;
  filters.add("owner_id =", std::string("a-uuid"), "::uuid");
  filters.add("user_id =", std::nullopt);
  filters.add("ts >=", std::string("2026-01-01T00:00:00Z"), "::timestamptz");
  EXPECT_EQ(filters.where(), " WHERE TRUE AND owner_id = $1::uuid AND ts >= $2::timestamptz");
  EXPECT_EQ(filters.values(), (std::vector<std::string>{"a-uuid", "2026-01-01T00:00:00Z"}));
  EXPECT_EQ(filters.placeholder_after(0), "$3");
  EXPECT_EQ(filters.placeholder_after(1), "$4");
  EXPECT_EQ(SqlFilters().where(), " WHERE TRUE");
}

TEST(PreparedStatementName, OneNamePerText) {
  const std::string first = infra::prepared_statement_name("SELECT 1");
  EXPECT_EQ(first, infra::prepared_statement_name("SELECT 1"));
  EXPECT_NE(first, infra::prepared_statement_name("SELECT 2"));
  EXPECT_LT(first.size(), 64u);  // PostgreSQL cuts names at 63 bytes
}

}  // namespace
}  // namespace tidemark::api
