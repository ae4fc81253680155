#include "tests/support/pg_test_db.hpp"

#include <cstdio>
#include <cstdlib>

#include "core/migrate.hpp"
#include "core/password.hpp"

namespace timepool::test {
namespace {

// A libpq conninfo value in single quotes (backslash and quote escaped).
std::string quoted(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// host/port/user from the PG* environment the ctest fixture "pg" sets, spelled out so a daemon
// started with a different environment reaches the same cluster.
std::string server_conninfo() {
  std::string out;
  for (auto [var, key] : {std::pair{"PGHOST", "host"}, {"PGPORT", "port"}, {"PGUSER", "user"}}) {
    if (const char* v = std::getenv(var); v && *v) out += std::string(key) + "=" + quoted(v) + " ";
  }
  return out;
}

pg::Connection admin_connection() {
  return pg::Connection::open(server_conninfo() + "dbname=postgres");
}

// Terminates the database's sessions (a daemon under test may still be connected), then drops
// it. Never throws: it runs in a destructor.
void drop_database(const std::string& name) {
  try {
    auto admin = admin_connection();
    admin.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = $1 AND pid <> pg_backend_pid()",
        name);
    admin.exec_script("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "TestDb: could not drop %s: %s\n", name.c_str(), e.what());
  }
}

}  // namespace

TestDb::TestDb(bool migrate) : name_("tp_" + password::random_token(6)) {
  try {
    auto admin = admin_connection();
    // The name is ours (hex), and CREATE DATABASE takes no parameters.
    admin.exec_script("CREATE DATABASE " + name_);
  } catch (const pg::Error& e) {
    if (!e.is_connection()) throw;
    throw pg::Error(std::string("TestDb: no test cluster (run the test through ctest, which "
                                "starts one, or set PGHOST/PGPORT/PGUSER): ") + e.what(),
                    e.sqlstate());
  }
  if (migrate) {
    try {
      auto conn = connect();
      timepool::migrate(conn, schema::embedded_migrations());
    } catch (...) {
      drop_database(name_);  // drop what we created, then report the failure
      throw;
    }
  }
}

TestDb::~TestDb() { drop_database(name_); }

std::string TestDb::conninfo() const { return server_conninfo() + "dbname=" + name_; }

pg::Connection TestDb::connect() const { return pg::Connection::open(conninfo()); }

}  // namespace timepool::test
