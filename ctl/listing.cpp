#include "ctl/listing.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace timepool::ctl {
namespace {

nlohmann::json value_of(const pg::Result& r, int row, int col, ColumnType type) {
  if (r.is_null(row, col)) return nullptr;
  switch (type) {
    case ColumnType::Int: return r.get<int64_t>(row, col);
    case ColumnType::Real: return r.get<double>(row, col);
    case ColumnType::Bool: return r.get<bool>(row, col);
    case ColumnType::Json: return nlohmann::json::parse(r.text(row, col));
    case ColumnType::Text: break;
  }
  return std::string(r.text(row, col));
}

std::string cell_text(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v.get<double>());
    return buf;
  }
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  return v.dump();
}

}  // namespace

Listing read_listing(const pg::Result& r, std::vector<Column> columns, std::string noun) {
  Listing l{std::move(columns), {}, std::move(noun)};
  std::vector<int> index;
  for (const auto& c : l.columns) index.push_back(r.column(c.key));
  for (int i = 0; i < r.rows(); ++i) {
    std::vector<nlohmann::json> row;
    for (size_t c = 0; c < l.columns.size(); ++c) {
      row.push_back(value_of(r, i, index[c], l.columns[c].type));
    }
    l.rows.push_back(std::move(row));
  }
  return l;
}

void print_listing(const Listing& l, bool json, std::ostream& out) {
  if (json) {
    auto arr = nlohmann::json::array();
    for (const auto& row : l.rows) {
      nlohmann::json obj = nlohmann::json::object();
      for (size_t c = 0; c < l.columns.size(); ++c) obj[l.columns[c].key] = row[c];
      arr.push_back(std::move(obj));
    }
    out << arr.dump(2) << "\n";
    return;
  }
  std::vector<std::string> header;
  for (const auto& c : l.columns) header.push_back(c.header);
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : l.rows) {
    std::vector<std::string> text;
    for (const auto& v : row) text.push_back(cell_text(v));
    rows.push_back(std::move(text));
  }
  out << format_table(header, rows) << l.rows.size() << " " << l.noun << "\n";
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  };
  measure(header);
  for (const auto& r : rows) measure(r);
  std::string out;
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  };
  emit(header);
  for (const auto& r : rows) emit(r);
  return out;
}

}  // namespace timepool::ctl
