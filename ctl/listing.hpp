// A listing: rows read from a query, printed either as an aligned text table for people or as
// a JSON array of objects for scripts (--json). Every list command of timepoolctl builds one,
// so the two forms always carry the same data.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/pg.hpp"

namespace timepool::ctl {

// How a column's text from PostgreSQL becomes a JSON value (and how the table shows it).
// Json: the column holds JSON text (jsonb); it stays structured in --json output.
enum class ColumnType { Text, Int, Real, Bool, Json };

struct Column {
  std::string header;  // table heading, "IN DNS"
  std::string key;     // the query's column name and the JSON key, "in_dns"
  ColumnType type = ColumnType::Text;
};

struct Listing {
  std::vector<Column> columns;
  std::vector<std::vector<nlohmann::json>> rows;  // one value per column; null shows as "-"
  std::string noun;                               // "servers": the count line "5 servers"
};

// Reads every row of `r`, one value per column (by the column's key). Throws pg::Error when a
// column is missing or does not convert.
Listing read_listing(const pg::Result& r, std::vector<Column> columns, std::string noun);

// Text: the table, then "N <noun>". JSON: an array of objects, one per row, keys as columns.
void print_listing(const Listing& l, bool json, std::ostream& out);

// Left-aligned columns separated by two spaces, with a header row.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace timepool::ctl
