// Schema migrations: schema/NNNN_description.sql, embedded into the binary at build time
// (schema/embed.cmake) and applied in order by `timepoolctl migrate`.
//
// Each pending migration runs in its own transaction together with the row that records it in
// schema_migrations; a failure rolls back that migration and throws MigrationError naming the
// file, the line and PostgreSQL's message. Applying twice is a no-op. Concurrent runs are
// serialized with an advisory lock.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace timepool::pg {
class Connection;
}

namespace timepool {

struct Migration {
  std::string name;  // "0001_accounts.sql"
  std::string sql;
};

class MigrationError : public std::runtime_error {
 public:
  MigrationError(const std::string& what, std::string file, int line)
      : std::runtime_error(what), file_(std::move(file)), line_(line) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based line in the file; 0 if unknown

 private:
  std::string file_;
  int line_;
};

struct MigrateReport {
  std::vector<std::string> applied;  // names applied by this call, in order
  std::vector<std::string> already;  // names that were already applied
};

// Applies the pending migrations of `all` in name order. Each runs as one simple-query string
// (so it may hold several statements, but no BEGIN/COMMIT and nothing that refuses to run in a
// transaction such as CREATE INDEX CONCURRENTLY). Throws MigrationError for a failing
// migration, and for one already applied whose text has changed since (checksum differs).
// Throws pg::Error when the database is unreachable.
MigrateReport migrate(pg::Connection& conn, const std::vector<Migration>& all);

// The 1-based line of the 1-based character (not byte: PostgreSQL counts UTF-8 characters)
// position `char_position` in `text`; 0 when the position is 0 or past the end.
int line_at_position(std::string_view text, int char_position);

namespace schema {
// Every migration in schema/, in order (generated; linked from timepool_schema).
const std::vector<Migration>& embedded_migrations();
}  // namespace schema

}  // namespace timepool
