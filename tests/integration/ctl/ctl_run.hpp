// Running the built timepoolctl against a test database, for the ctl integration tests.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/pg_test_db.hpp"
#include "tests/support/process.hpp"

namespace ctltest {

inline std::string ctl_binary() {
  const char* dir = std::getenv("TIMEPOOL_BINARY_DIR");
  REQUIRE(dir);
  return std::string(dir) + "/ctl/timepoolctl";
}

// Runs timepoolctl against `db` with `args`, optional stdin and extra environment.
inline timepool::test::RunResult ctl(const timepool::test::TestDb& db,
                                     std::vector<std::string> args,
                                     std::optional<std::string> stdin_text = std::nullopt,
                                     std::vector<std::string> env = {}) {
  std::vector<std::string> argv = {ctl_binary(), "--set", "database.conninfo=" + db.conninfo(),
                                   "--set", "log.level=warn"};
  argv.insert(argv.end(), args.begin(), args.end());
  timepool::test::ProcessOptions opts;
  opts.stdin_text = std::move(stdin_text);
  opts.env = std::move(env);
  auto r = timepool::test::run(argv, opts, std::chrono::seconds(60));
  UNSCOPED_INFO("timepoolctl " << args.front() << ": " << r.status.describe() << "\nstdout:\n"
                               << r.out << "stderr:\n" << r.err);
  return r;
}

// Runs a list command with --json and parses its output (an array of objects).
inline nlohmann::json ctl_json(const timepool::test::TestDb& db, std::vector<std::string> args) {
  args.push_back("--json");
  auto r = ctl(db, args);
  REQUIRE(r.status.ok());
  auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.is_array());
  return j;
}

// The object of `rows` whose `key` equals `value` (fails the test when there is none).
inline nlohmann::json row_where(const nlohmann::json& rows, const std::string& key,
                                const std::string& value) {
  for (const auto& r : rows) {
    if (r.contains(key) && r[key].is_string() && r[key] == value) return r;
  }
  FAIL("no row with " << key << " = " << value << " in " << rows.dump());
  return {};
}

// The value after "label: " on its own line of `text` ("" if absent).
inline std::string field(const std::string& text, const std::string& label) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex("(^|\n)" + label + ": ([^\n]*)"))) return m[2];
  return "";
}

}  // namespace ctltest
