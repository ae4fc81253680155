#include "core/migrate.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "core/password.hpp"
#include "core/pg.hpp"

namespace timepool {
namespace {

// Serializes concurrent `migrate` runs against one database ("tpmigr" in ASCII).
constexpr int64_t kLockKey = 0x74706d69677200;

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " name text PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT now(),"
    " checksum text NOT NULL)";

}  // namespace

int line_at_position(std::string_view text, int char_position) {
  if (char_position <= 0) return 0;
  int line = 1;
  int chars = 0;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte: same character
    if (++chars == char_position) return line;
    if (c == '\n') ++line;
  }
  return 0;
}

MigrateReport migrate(pg::Connection& conn, const std::vector<Migration>& all) {
  auto logger = log::get("migrate");
  std::vector<const Migration*> order;
  for (const auto& m : all) order.push_back(&m);
  std::sort(order.begin(), order.end(),
            [](const Migration* a, const Migration* b) { return a->name < b->name; });

  {
    pg::Transaction tx(conn);
    tx.exec("SELECT pg_advisory_xact_lock($1::bigint)", kLockKey);
    tx.exec(kCreateTable);
    tx.commit();
  }

  MigrateReport report;
  for (const Migration* m : order) {
    std::string checksum = password::sha256_hex(m->sql);
    pg::Transaction tx(conn);
    // Held until this migration commits or rolls back, so a concurrent run waits and then
    // sees it as applied.
    tx.exec("SELECT pg_advisory_xact_lock($1::bigint)", kLockKey);
    auto r = tx.exec("SELECT checksum FROM schema_migrations WHERE name = $1", m->name);
    if (r.rows() > 0) {
      if (r.get<std::string>(0, 0) != checksum) {
        throw MigrationError(m->name + ": changed after it was applied (checksum differs); "
                                 "restore the file and put the change in a new migration",
                             m->name, 0);
      }
      report.already.push_back(m->name);
      continue;  // the transaction rolls back: nothing to do
    }
    try {
      conn.exec_script(m->sql);
    } catch (const pg::Error& e) {
      int line = line_at_position(m->sql, e.position());
      std::string where = m->name + (line > 0 ? ":" + std::to_string(line) : std::string());
      throw MigrationError(where + ": " + e.what(), m->name, line);
    }
    tx.exec("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", m->name, checksum);
    tx.commit();
    logger->info("applied {}", m->name);
    report.applied.push_back(m->name);
  }
  return report;
}

}  // namespace timepool
