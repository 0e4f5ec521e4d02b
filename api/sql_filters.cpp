#include "api/sql_filters.h"

#include <pqxx/pqxx>

#include "infra/database.h"

namespace tidemark::api {

ListPage read_list_page(pqxx::connection& connection, const std::string& columns,
                        const std::string& table, const SqlFilters& filters,
                        const std::string& order, std::int64_t page, std::int64_t size,
                        const std::optional<TokenSession>& checked_session) {
  const std::string from = " FROM " + table + filters.where();
  std::vector<std::string> paged = filters.values();
  paged.push_back(std::to_string(size));
  paged.push_back(std::to_string((page - 1) * size));
  std::string page_condition;
  if (checked_session) {
    page_condition = " AND " + active_user_session_condition(filters.placeholder_after(2),
                                                             filters.placeholder_after(3));
    paged.push_back(checked_session->session_id.to_string());
    paged.push_back(checked_session->user_id.to_string());
  }
  pqxx::nontransaction read(connection);
  ListPage result;
  result.rows = infra::exec_prepared_sql(
      read,
      "SELECT " + columns + ", (SELECT count(*)" + from + ")" + from + page_condition +
          " ORDER BY " + order + " LIMIT " + filters.placeholder_after(0) + "::bigint OFFSET " +
          filters.placeholder_after(1) + "::bigint",
      pqxx::prepare::make_dynamic_params(paged));
  if (!result.rows.empty()) {
    const auto count_column = static_cast<pqxx::row::size_type>(result.rows.columns() - 1);
    result.total = result.rows[0][count_column].as<std::int64_t>();
  } else if (page > 1 && !checked_session) {
    // Past the end no row carries the count.
    auto count = infra::exec_prepared_sql(read, "SELECT count(*)" + from,
                                          pqxx::prepare::make_dynamic_params(filters.values()));
    result.total = count[0][0].as<std::int64_t>();
  }
  return result;
}

}  // namespace tidemark::api
