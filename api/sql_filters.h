#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <pqxx/result>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"

namespace tidemark::api {

/// The WHERE clause of a list request: only the filters it gives, each value a parameter ($1,
/// $2, … in the order added). Each combination of filters is then its own statement text, which
/// PostgreSQL prepares once and plans for exactly those filters.
class SqlFilters {
 public:
  /// Adds `expression $n` (for example "user_id =", "ts >=") when `value` is given; `cast`
  /// follows the parameter (for example "::uuid").
  void add(std::string_view expression, const std::optional<std::string>& value,
           std::string_view cast = "") {
    if (!value) return;
    values_.push_back(*value);
    where_ += " AND ";
    where_ += expression;
    where_ += " $" + std::to_string(values_.size());
    where_ += cast;
  }

  /// " WHERE TRUE AND …".
  const std::string& where() const { return where_; }
  const std::vector<std::string>& values() const { return values_; }
  /// The placeholder of the parameter that would come after the filters' values plus `extra`.
  std::string placeholder_after(std::size_t extra) const {
    return "$" + std::to_string(values_.size() + extra + 1);
  }

 private:
  std::string where_ = " WHERE TRUE";
  std::vector<std::string> values_;
};

/// One page of a list and the number of all its matches.
struct ListPage {
  pqxx::result rows;  ///< `columns` as selected (the count is not among them)
  std::int64_t total = 0;
};

/// Reads page `page` (from 1) of `size` rows of `columns` from `table` with `filters`, in
/// `order` (its columns qualified by the table, e.g. "event_log.ts DESC": a bare name that is
/// also a selected column, such as `event_id` of `event_id::text`, would sort by the formatted
/// value and not by the index), and counts every match: in a subquery rather than a window over the
/// matches, so the page reads only its own rows, in index order, and the count can come from the
/// index alone. With `checked_session`, the page's rows also need that session to be active
/// and its user of role `user` (`active_user_session_condition`), and no row counts nothing.
ListPage read_list_page(pqxx::connection& connection, const std::string& columns,
                        const std::string& table, const SqlFilters& filters,
                        const std::string& order, std::int64_t page, std::int64_t size,
                        const std::optional<TokenSession>& checked_session = std::nullopt);

}  // namespace tidemark::api
