// The timepoolctl binary: what it prints, what it writes, and its exit statuses.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>

#include "core/migrate.hpp"
#include "core/password.hpp"
#include "tests/support/pg_test_db.hpp"
#include "tests/support/process.hpp"
#include "tests/integration/ctl/ctl_run.hpp"

using Catch::Matchers::Contains;
using timepool::test::RunResult;
using timepool::test::TestDb;

using ctltest::ctl;
using ctltest::ctl_binary;
using ctltest::field;

TEST_CASE("timepoolctl migrate applies everything once, then nothing", "[migrate]") {
  TestDb db(false);
  auto first = ctl(db, {"migrate"});
  REQUIRE(first.status.ok());
  const auto& all = timepool::schema::embedded_migrations();
  for (const auto& m : all) CHECK_THAT(first.out, Contains("applied " + m.name));
  CHECK_THAT(first.out, Contains("applied " + std::to_string(all.size()) + " of"));

  auto second = ctl(db, {"migrate"});
  REQUIRE(second.status.ok());
  CHECK_THAT(second.out, Contains("schema is up to date"));
  CHECK_THAT(second.out, !Contains("applied "));
  auto c = db.connect();
  CHECK(c.exec("SELECT count(*) FROM schema_migrations").get<int64_t>(0, 0) ==
        static_cast<int64_t>(all.size()));
  CHECK(c.exec("SELECT count(*) FROM zones WHERE kind = 'continent'").get<int64_t>(0, 0) == 6);
}

TEST_CASE("timepoolctl create-admin", "[admin]") {
  TestDb db;
  auto c = db.connect();
  auto hash_of = [&](const std::string& email) {
    auto r = c.exec("SELECT password_hash, role FROM accounts WHERE email = $1", email);
    REQUIRE(r.rows() == 1);
    CHECK(r.get<std::string>(0, "role") == "admin");
    return r.get<std::string>(0, "password_hash");
  };

  SECTION("generates a strong password and prints it once") {
    auto r = ctl(db, {"create-admin", "root@example.org"});
    REQUIRE(r.status.ok());
    auto pw = field(r.out, "password");
    CHECK(pw.size() >= 20);
    auto h = hash_of("root@example.org");
    CHECK(h.find(pw) == std::string::npos);  // not stored in clear
    CHECK(timepool::password::verify(pw, h));
    CHECK_FALSE(timepool::password::verify(pw + "x", h));
  }
  SECTION("takes the password from stdin and does not echo it") {
    auto r = ctl(db, {"create-admin", "ops@example.org", "--password-stdin"},
                 "a long enough secret\n");
    REQUIRE(r.status.ok());
    CHECK_THAT(r.out + r.err, !Contains("a long enough secret"));
    CHECK(timepool::password::verify("a long enough secret", hash_of("ops@example.org")));
  }
  SECTION("refuses a taken email, a short password and a bad address") {
    REQUIRE(ctl(db, {"create-admin", "root@example.org"}).status.ok());
    auto dup = ctl(db, {"create-admin", "ROOT@example.org"});
    CHECK(dup.status.code == 1);
    CHECK_THAT(dup.err, Contains("already exists"));
    auto shortpw = ctl(db, {"create-admin", "x@example.org", "--password-stdin"}, "short\n");
    CHECK(shortpw.status.code == 1);
    CHECK_THAT(shortpw.err, Contains("10 to 1000 characters"));
    auto empty = ctl(db, {"create-admin", "y@example.org", "--password-stdin"}, "");
    CHECK(empty.status.code == 1);
    auto bad = ctl(db, {"create-admin", "not-an-address"});
    CHECK(bad.status.code == 1);
    CHECK_THAT(bad.err, Contains("not a valid email"));
    CHECK(c.exec("SELECT count(*) FROM accounts").get<int64_t>(0, 0) == 1);
  }
}

TEST_CASE("timepoolctl monitor add, list, set-status", "[monitor]") {
  TestDb db;
  auto c = db.connect();
  auto add = ctl(db, {"monitor", "add", "fra1"});
  REQUIRE(add.status.ok());
  auto key = field(add.out, "key");
  REQUIRE(key.size() == 64);
  auto row = c.exec("SELECT key_hash, status FROM monitors WHERE name = 'fra1'");
  REQUIRE(row.rows() == 1);
  CHECK(row.get<std::string>(0, "key_hash") == timepool::password::hash_token(key));
  CHECK(row.get<std::string>(0, "status") == "pending");

  auto add2 = ctl(db, {"monitor", "add", "nyc1", "--status", "active"});
  REQUIRE(add2.status.ok());
  CHECK(field(add2.out, "key") != key);

  auto list = ctl(db, {"monitor", "list"});
  REQUIRE(list.status.ok());
  CHECK(std::regex_search(list.out, std::regex("\nfra1 +pending ")));
  CHECK(std::regex_search(list.out, std::regex("\nnyc1 +active ")));

  REQUIRE(ctl(db, {"monitor", "set-status", "fra1", "testing"}).status.ok());
  CHECK(c.exec("SELECT status FROM monitors WHERE name = 'fra1'").get<std::string>(0, 0) ==
        "testing");

  auto missing = ctl(db, {"monitor", "set-status", "nowhere", "active"});
  CHECK(missing.status.code == 1);
  CHECK_THAT(missing.err, Contains("no monitor named nowhere"));
  CHECK(ctl(db, {"monitor", "set-status", "fra1", "sleeping"}).status.code == 2);
  CHECK(ctl(db, {"monitor", "add", "x", "--status", "bogus"}).status.code == 2);
  auto dup = ctl(db, {"monitor", "add", "fra1"});
  CHECK(dup.status.code == 1);
  CHECK_THAT(dup.err, Contains("already exists"));
  CHECK(ctl(db, {"monitor", "add", "Bad Name"}).status.code == 1);
  CHECK(c.exec("SELECT count(*) FROM monitors").get<int64_t>(0, 0) == 2);
}

TEST_CASE("timepoolctl servers list and zones list", "[lists]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO accounts (email, password_hash) VALUES ('vol@example.net', 'x')");
  c.exec("INSERT INTO servers (address, owner_id, netspeed, country, score) VALUES "
         "('192.0.2.10', (SELECT id FROM accounts), 3000, 'de', 15), "
         "('192.0.2.11', NULL, 1500, 'de', 9.5), "
         "('2001:db8::10', NULL, 0, 'fr', 19), "
         "('192.0.2.12', NULL, 1500, 'gb', 12)");
  auto servers = ctl(db, {"servers", "list"});
  REQUIRE(servers.status.ok());
  CHECK(std::regex_search(servers.out,
                          std::regex("\n192\\.0\\.2\\.10 +vol@example\\.net +3000 +de +15\\.0 +yes")));
  CHECK(std::regex_search(servers.out, std::regex("\n192\\.0\\.2\\.11 +- +1500 +de +9\\.5 +no")));
  CHECK(std::regex_search(servers.out, std::regex("\n2001:db8::10 +- +0 +fr +19\\.0 +no")));
  CHECK_THAT(servers.out, Contains("4 servers"));

  auto zones = ctl(db, {"zones", "list"});
  REQUIRE(zones.status.ok());
  CHECK(std::regex_search(zones.out, std::regex("\n@ +global +- +- +2\n")));
  CHECK(std::regex_search(zones.out, std::regex("\neurope +continent +@ +- +2\n")));
  CHECK(std::regex_search(zones.out, std::regex("\nde +country +europe +- +1\n")));
  CHECK(std::regex_search(zones.out, std::regex("\nuk +country +europe +gb +1\n")));
  CHECK(std::regex_search(zones.out, std::regex("\nfr +country +europe +- +0\n")));
  auto vendors = ctl(db, {"zones", "list", "--kind", "vendor"});
  REQUIRE(vendors.status.ok());
  CHECK_THAT(vendors.out, Contains("0 zones"));
  CHECK(ctl(db, {"zones", "list", "--kind", "planet"}).status.code == 2);
}

TEST_CASE("timepoolctl reports bad arguments, configuration and an unreachable database",
          "[errors]") {
  TestDb db(false);
  auto run = [](std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), ctl_binary());
    timepool::test::ProcessOptions opts;
    opts.env = std::move(env);
    auto r = timepool::test::run(args, opts, std::chrono::seconds(60));
    UNSCOPED_INFO(r.status.describe() << "\n" << r.out << r.err);
    return r;
  };
  auto help = run({"--help"});
  CHECK(help.status.ok());
  for (const char* cmd : {"migrate", "create-admin", "monitor", "servers", "zones", "--set"}) {
    CHECK_THAT(help.out, Contains(cmd));
  }
  CHECK(run({"monitor", "add", "--help"}).status.ok());
  CHECK(run({}).status.code == 2);
  CHECK(run({"frobnicate"}).status.code == 2);
  CHECK(run({"create-admin"}).status.code == 2);  // EMAIL missing

  auto down = run({"--set", "database.conninfo=host=/nonexistent-dir port=1", "migrate"});
  CHECK(down.status.code == 3);
  CHECK_THAT(down.err, Contains("cannot reach the database"));

  auto typo = run({"--set", "databse.conninfo=x", "migrate"});
  CHECK(typo.status.code == 4);
  CHECK_THAT(typo.err, Contains("unknown section [databse]"));
  auto badkey = run({"--set", "database.connifo=x", "migrate"});
  CHECK(badkey.status.code == 4);
  CHECK_THAT(badkey.err, Contains("database.connifo"));

  timepool::test::TempDir dir;
  auto file = dir.write("timepool.toml", "[database]\nconninfo = \"" + db.conninfo() +
                                             "\"\n[log]\nlevel = \"chatty\"\n");
  auto badlevel = run({"-c", file, "migrate"});
  CHECK(badlevel.status.code == 4);
  CHECK_THAT(badlevel.err, Contains(file + ":4: log.level"));
  // The environment overrides the file and --set overrides both.
  auto env_ok = run({"-c", file, "migrate"}, {"TIMEPOOL_LOG_LEVEL=warn"});
  CHECK(env_ok.status.ok());
  CHECK(run({"-c", file, "--set", "log.level=error", "migrate"},
            {"TIMEPOOL_LOG_LEVEL=chatty"}).status.ok());
  CHECK(run({"-c", dir.file("missing.toml"), "migrate"}).status.code == 2);
}

TEST_CASE("the annotated example configuration is accepted as it is", "[errors]") {
  TestDb db(false);
  const char* src = std::getenv("TIMEPOOL_SOURCE_DIR");
  REQUIRE(src);
  auto r = timepool::test::run({ctl_binary(), "-c", std::string(src) + "/deploy/timepool.toml",
                                "--set", "database.conninfo=" + db.conninfo(), "migrate"});
  INFO(r.out << r.err);
  CHECK(r.status.ok());
}
