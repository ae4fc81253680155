// timepoolctl's management commands, one test case per command group: each command's effect
// in the database, its message, its refusals (which say what to do), and every listing read
// back through --json.
#include <catch2/catch.hpp>

#include "core/password.hpp"
#include "tests/integration/ctl/ctl_run.hpp"

using Catch::Matchers::Contains;
using ctltest::ctl;
using ctltest::ctl_json;
using ctltest::field;
using ctltest::row_where;
using timepool::test::TestDb;

namespace {

int64_t count(timepool::pg::Connection& c, const std::string& sql) {
  return c.exec(sql).get<int64_t>(0, 0);
}

}  // namespace

TEST_CASE("timepoolctl servers add", "[servers-add]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO accounts (email, password_hash) VALUES ('vol@example.net', 'x')");
  auto add = ctl(db, {"servers", "add", "81.2.69.7", "--country", "DE", "--owner",
                      "VOL@example.net", "--netspeed", "3000"});
  REQUIRE(add.status.ok());
  CHECK_THAT(add.out, Contains("added server 81.2.69.7 (country de, netspeed 3000"));
  auto rows = ctl_json(db, {"servers", "list"});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["address"] == "81.2.69.7");
  CHECK(rows[0]["owner"] == "vol@example.net");
  CHECK(rows[0]["netspeed"] == 3000);
  CHECK(rows[0]["country"] == "de");
  CHECK(rows[0]["in_dns"] == false);
  CHECK(count(c, "SELECT count(*) FROM server_zones") == 3);  // de, europe, @

  CHECK(ctl(db, {"servers", "add", "2A00:1450::1", "--country", "uk"}).status.ok());
  CHECK(row_where(ctl_json(db, {"servers", "list"}), "address", "2a00:1450::1")["country"] == "gb");
  CHECK(ctl(db, {"servers", "add", "127.0.0.9", "--country", "fr", "--allow-loopback"}).status.ok());

  auto dup = ctl(db, {"servers", "add", "81.2.69.7", "--country", "de"});
  CHECK(dup.status.code == 1);
  CHECK_THAT(dup.err, Contains("already in the pool"));
  auto priv = ctl(db, {"servers", "add", "10.1.2.3", "--country", "de"});
  CHECK(priv.status.code == 1);
  CHECK_THAT(priv.err, Contains("not a public unicast address"));
  auto bad = ctl(db, {"servers", "add", "81.2.69.300", "--country", "de"});
  CHECK_THAT(bad.err, Contains("not one IPv4 or IPv6 address"));
  auto speed = ctl(db, {"servers", "add", "81.2.69.8", "--country", "de", "--netspeed", "7"});
  CHECK_THAT(speed.err, Contains("choose one of (kbit/s): 0, 512, 1500"));
  auto cc = ctl(db, {"servers", "add", "81.2.69.8", "--country", "xx"});
  CHECK_THAT(cc.err, Contains("no country zone xx"));
  auto owner = ctl(db, {"servers", "add", "81.2.69.8", "--country", "de", "--owner", "no@x.org"});
  CHECK_THAT(owner.err, Contains("'timepoolctl accounts list' shows them"));
  auto doc = ctl(db, {"servers", "add", "192.0.2.8", "--country", "de"});
  CHECK_THAT(doc.err, Contains("reserved for documentation"));
  CHECK(count(c, "SELECT count(*) FROM servers") == 3);
}

TEST_CASE("timepoolctl servers disable, enable, netspeed, country, remove", "[servers-change]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO servers (address, netspeed, country, score) VALUES "
         "('192.0.2.10', 1500, 'de', 15), ('192.0.2.11', 1500, 'de', 15)");
  auto in_dns = [&](const std::string& a) {
    return row_where(ctl_json(db, {"servers", "list"}), "address", a)["in_dns"].get<bool>();
  };
  REQUIRE(in_dns("192.0.2.10"));

  auto off = ctl(db, {"servers", "disable", "192.0.2.10"});
  REQUIRE(off.status.ok());
  CHECK_THAT(off.out, Contains("left DNS"));
  auto row = row_where(ctl_json(db, {"servers", "list"}), "address", "192.0.2.10");
  CHECK(row["in_dns"] == false);
  CHECK(row["disabled"] == true);
  CHECK(row["note"] == "disabled");
  REQUIRE(ctl(db, {"servers", "enable", "192.0.2.10"}).status.ok());
  CHECK(in_dns("192.0.2.10"));

  REQUIRE(ctl(db, {"servers", "netspeed", "192.0.2.10", "0"}).status.ok());
  row = row_where(ctl_json(db, {"servers", "list"}), "address", "192.0.2.10");
  CHECK(row["netspeed"] == 0);
  CHECK(row["in_dns"] == false);
  CHECK(ctl(db, {"servers", "netspeed", "192.0.2.10", "1234"}).status.code == 1);
  REQUIRE(ctl(db, {"servers", "netspeed", "192.0.2.10", "25000"}).status.ok());
  CHECK(in_dns("192.0.2.10"));

  REQUIRE(ctl(db, {"servers", "country", "192.0.2.10", "jp"}).status.ok());
  CHECK(row_where(ctl_json(db, {"servers", "list"}), "address", "192.0.2.10")["country"] == "jp");
  CHECK(count(c, "SELECT count(*) FROM server_zones sz JOIN zones z ON z.id = sz.zone_id "
                 "JOIN servers s ON s.id = sz.server_id "
                 "WHERE s.address = '192.0.2.10' AND z.name IN ('jp', 'asia', '@')") == 3);
  CHECK(ctl(db, {"servers", "country", "192.0.2.10", "europe"}).status.code == 1);

  auto later = ctl(db, {"servers", "remove", "192.0.2.11", "--on", "2099-01-31"});
  REQUIRE(later.status.ok());
  row = row_where(ctl_json(db, {"servers", "list"}), "address", "192.0.2.11");
  CHECK(row["deletion_on"] == "2099-01-31");
  CHECK(row["in_dns"] == false);
  CHECK(ctl(db, {"servers", "remove", "192.0.2.11", "--on", "someday"}).status.code == 1);
  REQUIRE(ctl(db, {"servers", "remove", "192.0.2.10"}).status.ok());
  auto rows = ctl_json(db, {"servers", "list"});
  CHECK(rows.size() == 1);
  CHECK(count(c, "SELECT count(*) FROM servers WHERE deleted_at IS NOT NULL") == 1);
  auto gone = ctl(db, {"servers", "disable", "192.0.2.10"});
  CHECK(gone.status.code == 1);
  CHECK_THAT(gone.err, Contains("no server 192.0.2.10 in the pool ('timepoolctl servers list'"));
}

TEST_CASE("timepoolctl zones list counts what each zone answers with", "[zones-list]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO servers (address, netspeed, country, score) VALUES "
         "('192.0.2.10', 1500, 'de', 15), ('192.0.2.11', 1500, 'gb', 15), "
         "('192.0.2.12', 1500, 'us', 15), ('192.0.2.13', 1500, 'jp', 15), "
         "('192.0.2.14', 1500, 'de', 2)");
  REQUIRE(ctl(db, {"zones", "add", "acme-clocks", "--kind", "vendor", "--organization", "Acme",
                   "--contact", "ops@acme.example"}).status.ok());
  auto zones = ctl_json(db, {"zones", "list"});
  CHECK(row_where(zones, "name", "@")["servers_in_dns"] == 4);
  CHECK(row_where(zones, "name", "europe")["servers_in_dns"] == 2);
  CHECK(row_where(zones, "name", "de")["servers_in_dns"] == 1);
  CHECK(row_where(zones, "name", "uk")["servers_in_dns"] == 1);
  CHECK(row_where(zones, "name", "uk")["alias_of"] == "gb");
  CHECK(row_where(zones, "name", "fr")["servers_in_dns"] == 0);
  // A vendor zone answers like the global zone.
  auto acme = row_where(zones, "name", "acme-clocks");
  CHECK(acme["kind"] == "vendor");
  CHECK(acme["servers_in_dns"] == 4);
  CHECK(acme["live"] == true);

  auto text = ctl(db, {"zones", "list", "--kind", "vendor"});
  CHECK(std::regex_search(text.out, std::regex("\nacme-clocks +vendor +@ +- +4\n")));
  CHECK_THAT(text.out, Contains("1 zones"));
  auto nonempty = ctl_json(db, {"zones", "list", "--nonempty"});
  CHECK(nonempty.size() == 10);  // @, europe asia north-america, de gb uk us jp, acme-clocks
  for (const auto& z : nonempty) CHECK(z["servers_in_dns"].get<int>() > 0);
}

TEST_CASE("timepoolctl zones add", "[zones-add]") {
  TestDb db;
  auto c = db.connect();
  REQUIRE(ctl(db, {"zones", "add", "xk", "--continent", "europe", "--description", "Kosovo"})
              .status.ok());
  REQUIRE(ctl(db, {"zones", "add", "england", "--alias-of", "gb"}).status.ok());
  auto zones = ctl_json(db, {"zones", "list", "--kind", "country"});
  CHECK(row_where(zones, "name", "xk")["parent"] == "europe");
  CHECK(row_where(zones, "name", "xk")["description"] == "Kosovo");
  CHECK(row_where(zones, "name", "england")["alias_of"] == "gb");
  auto vendor = ctl(db, {"zones", "add", "tick-tock", "--kind", "vendor", "--organization",
                         "Tick", "--contact", "t@tick.example", "--client", "ntp", "--devices",
                         "20000"});
  REQUIRE(vendor.status.ok());
  CHECK_THAT(vendor.out, Contains("live in DNS now"));
  CHECK(c.exec("SELECT status FROM vendor_zones WHERE name = 'tick-tock'").get<std::string>(0, 0) ==
        "approved");

  auto dup = ctl(db, {"zones", "add", "de", "--continent", "europe"});
  CHECK(dup.status.code == 1);
  CHECK_THAT(dup.err, Contains("exists already"));
  auto nocont = ctl(db, {"zones", "add", "zz"});
  CHECK_THAT(nocont.err, Contains("needs --continent"));
  auto badcont = ctl(db, {"zones", "add", "zz", "--continent", "atlantis"});
  CHECK_THAT(badcont.err, Contains("no continent zone atlantis"));
  auto noorg = ctl(db, {"zones", "add", "some-vendor", "--kind", "vendor"});
  CHECK_THAT(noorg.err, Contains("--organization and --contact"));
  auto badname = ctl(db, {"zones", "add", "Bad_Name", "--continent", "europe"});
  CHECK(badname.status.code == 1);
  CHECK_THAT(badname.err, Contains("not a valid zone name"));
}

TEST_CASE("timepoolctl vendors list, approve, reject", "[vendors]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO accounts (email, password_hash, role) VALUES ('v@acme.example', 'x', 'vendor')");
  for (const char* name : {"acme-one", "acme-two"}) {
    c.exec("INSERT INTO vendor_zones (name, account_id, organization, contact, device_count, "
           "client_type) VALUES ($1, (SELECT id FROM accounts), 'Acme', 'v@acme.example', 5000, "
           "'both')",
           std::string(name));
  }
  auto rows = ctl_json(db, {"vendors", "list"});
  REQUIRE(rows.size() == 2);
  CHECK(row_where(rows, "name", "acme-one")["status"] == "new");
  CHECK(row_where(rows, "name", "acme-one")["account"] == "v@acme.example");
  CHECK(row_where(rows, "name", "acme-one")["device_count"] == 5000);

  auto ok = ctl(db, {"vendors", "approve", "acme-one"});
  REQUIRE(ok.status.ok());
  CHECK_THAT(ok.out, Contains("live in DNS now"));
  CHECK(count(c, "SELECT count(*) FROM zones WHERE name = 'acme-one' AND kind = 'vendor'") == 1);
  auto again = ctl(db, {"vendors", "approve", "acme-one"});
  CHECK(again.status.code == 1);
  CHECK_THAT(again.err, Contains("already approved"));

  auto noreason = ctl(db, {"vendors", "reject", "acme-two"});
  CHECK(noreason.status.code == 2);  // --reason is required
  auto no = ctl(db, {"vendors", "reject", "acme-two", "--reason", "Use the global zone"});
  REQUIRE(no.status.ok());
  auto rejected = ctl_json(db, {"vendors", "list", "--status", "rejected"});
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0]["decision_reason"] == "Use the global zone");
  CHECK(ctl_json(db, {"vendors", "list", "--status", "approved"}).size() == 1);
  auto missing = ctl(db, {"vendors", "approve", "nobody-here"});
  CHECK_THAT(missing.err, Contains("'timepoolctl vendors list' shows them"));
  CHECK(row_where(ctl_json(db, {"zones", "list", "--kind", "vendor"}), "name", "acme-one")["live"] ==
        true);
}

TEST_CASE("timepoolctl accounts list, disable, enable, password-reset", "[accounts]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO accounts (email, password_hash, display_name) VALUES "
         "('vol@example.net', 'x', 'Vol')");
  c.exec("INSERT INTO servers (address, owner_id, netspeed, country, score) VALUES "
         "('192.0.2.10', (SELECT id FROM accounts), 1500, 'de', 15)");
  c.exec("INSERT INTO sessions (token_hash, account_id, csrf_token, expires_at) VALUES "
         "('h', (SELECT id FROM accounts), 'c', now() + interval '1 day')");
  REQUIRE(ctl(db, {"create-admin", "root@example.org"}).status.ok());
  auto rows = ctl_json(db, {"accounts", "list"});
  REQUIRE(rows.size() == 2);
  auto vol = row_where(rows, "email", "vol@example.net");
  CHECK(vol["role"] == "volunteer");
  CHECK(vol["servers"] == 1);
  CHECK(vol["disabled"] == false);
  CHECK(vol["display_name"] == "Vol");
  CHECK(ctl_json(db, {"accounts", "list", "--role", "admin"}).size() == 1);

  auto off = ctl(db, {"accounts", "disable", "VOL@example.net"});
  REQUIRE(off.status.ok());
  CHECK(row_where(ctl_json(db, {"accounts", "list"}), "email", "vol@example.net")["disabled"] ==
        true);
  CHECK(count(c, "SELECT count(*) FROM sessions") == 0);
  auto server = row_where(ctl_json(db, {"servers", "list"}), "address", "192.0.2.10");
  CHECK(server["in_dns"] == false);
  CHECK(server["note"] == "owner disabled");
  REQUIRE(ctl(db, {"accounts", "enable", "vol@example.net"}).status.ok());
  CHECK(row_where(ctl_json(db, {"servers", "list"}), "address", "192.0.2.10")["in_dns"] == true);

  auto reset = ctl(db, {"accounts", "password-reset", "vol@example.net"});
  REQUIRE(reset.status.ok());
  auto pw = field(reset.out, "password");
  auto hash = [&] {
    return c.exec("SELECT password_hash FROM accounts WHERE email = 'vol@example.net'")
        .get<std::string>(0, 0);
  };
  CHECK(timepool::password::verify(pw, hash()));
  REQUIRE(ctl(db, {"accounts", "password-reset", "vol@example.net", "--password-stdin"},
              "another long secret\n").status.ok());
  CHECK(timepool::password::verify("another long secret", hash()));
  auto shortpw = ctl(db, {"accounts", "password-reset", "vol@example.net", "--password-stdin"}, "x\n");
  CHECK_THAT(shortpw.err, Contains("10 to 1000 characters"));
  auto missing = ctl(db, {"accounts", "disable", "who@example.org"});
  CHECK(missing.status.code == 1);
  CHECK_THAT(missing.err, Contains("no account who@example.org"));
}

TEST_CASE("timepoolctl monitor list --json and probe-log prune", "[monitor-json]") {
  TestDb db;
  auto c = db.connect();
  REQUIRE(ctl(db, {"monitor", "add", "fra1", "--status", "active"}).status.ok());
  auto rows = ctl_json(db, {"monitor", "list"});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["name"] == "fra1");
  CHECK(rows[0]["status"] == "active");
  CHECK(rows[0]["servers"] == 0);
  CHECK(rows[0]["last_seen"].is_null());

  c.exec("SELECT probe_log_ensure_partitions(current_date - 60, 3)");
  auto parts = [&] {
    return count(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'probe_log'::regclass "
                    "AND inhrelid::regclass::text ~ '^probe_log_[0-9]{8}$'");
  };
  auto before = parts();
  auto prune = ctl(db, {"probe-log", "prune", "--days", "30"});
  REQUIRE(prune.status.ok());
  CHECK_THAT(prune.out, Contains("older than 30 days"));
  CHECK(parts() < before);
  CHECK(count(c, "SELECT count(*) FROM pg_class WHERE relname = 'probe_log_' || "
                 "to_char(current_date - 59, 'YYYYMMDD')") == 0);
  CHECK(count(c, "SELECT count(*) FROM pg_class WHERE relname = 'probe_log_' || "
                 "to_char(current_date, 'YYYYMMDD')") == 1);
}

TEST_CASE("timepoolctl on a database without the schema says to migrate", "[unmigrated]") {
  TestDb db(false);
  auto r = ctl(db, {"servers", "list"});
  CHECK(r.status.code == 1);
  CHECK_THAT(r.err, Contains("run 'timepoolctl migrate' first"));
}

TEST_CASE("timepoolctl records its changes in the audit log", "[audit]") {
  TestDb db;
  auto c = db.connect();
  REQUIRE(ctl(db, {"servers", "add", "81.2.69.7", "--country", "de"}).status.ok());
  REQUIRE(ctl(db, {"servers", "disable", "81.2.69.7", "--reason", "answers with a 5 s offset"})
              .status.ok());
  REQUIRE(ctl(db, {"servers", "netspeed", "81.2.69.7", "12000"}).status.ok());
  REQUIRE(ctl(db, {"create-admin", "root@example.org"}).status.ok());
  REQUIRE(ctl(db, {"accounts", "disable", "root@example.org", "--reason", "left"}).status.ok());
  // A refused change records nothing.
  CHECK(ctl(db, {"servers", "disable", "81.2.69.99"}).status.code == 1);

  auto all = ctl_json(db, {"audit", "list"});
  REQUIRE(all.size() == 5);
  CHECK(all[0]["action"] == "server.add");
  CHECK(all[0]["target"] == "81.2.69.7");
  CHECK(all[1]["action"] == "server.disable");
  CHECK(all[1]["detail"] == "answers with a 5 s offset");
  CHECK(all[1]["actor"].get<std::string>().rfind("timepoolctl:", 0) == 0);
  CHECK(all[2]["detail"] == "12000");
  CHECK(all[4]["action"] == "account.disable");
  CHECK(all[4]["detail"] == "left");

  auto one = ctl_json(db, {"audit", "list", "--target", "81.2.69.7"});
  CHECK(one.size() == 3);
  auto newest = ctl_json(db, {"audit", "list", "--limit", "2"});
  REQUIRE(newest.size() == 2);
  CHECK(newest[1]["action"] == "account.disable");
  auto text = ctl(db, {"audit", "list"});
  CHECK(std::regex_search(text.out, std::regex("server\\.disable +81\\.2\\.69\\.7 +answers with")));
  CHECK_THAT(text.out, Contains("5 entries"));

  // The filters of the web's audit page, paging back by id, and before/after as JSON.
  c.exec("INSERT INTO audit_log (actor, action, target, before, after) VALUES "
         "('admin@example.org', 'server.country', '81.2.69.7', '{\"country\": \"de\"}', "
         "'{\"country\": \"fr\"}')");
  auto by_admin = ctl_json(db, {"audit", "list", "--account", "ADMIN@example.org"});
  REQUIRE(by_admin.size() == 1);
  CHECK(by_admin[0]["before"]["country"] == "de");
  CHECK(by_admin[0]["after"]["country"] == "fr");
  CHECK(all[0]["before"].is_null());
  // --account matches what was done to an account too.
  CHECK(ctl_json(db, {"audit", "list", "--account", "root@example.org"}).size() == 2);
  auto servers = ctl_json(db, {"audit", "list", "--action", "server"});
  CHECK(servers.size() == 4);
  for (const auto& e : servers) CHECK(e["action"].get<std::string>().rfind("server.", 0) == 0);
  CHECK(ctl_json(db, {"audit", "list", "--action", "server.disable"}).size() == 1);
  CHECK(ctl_json(db, {"audit", "list", "--action", "serv"}).empty());
  auto page = ctl_json(db, {"audit", "list", "--limit", "2"});
  REQUIRE(page.size() == 2);
  auto back = ctl_json(db, {"audit", "list", "--limit", "2", "--before-id",
                            std::to_string(page[0]["id"].get<int64_t>())});
  REQUIRE(back.size() == 2);
  CHECK(back[1]["id"].get<int64_t>() < page[0]["id"].get<int64_t>());
  CHECK(back[1]["action"] == "account.create-admin");
  CHECK(ctl(db, {"audit", "list", "--before-id", "0"}).status.code != 0);
  CHECK_THAT(ctl(db, {"audit", "list", "--target", "81.2.69.7"}).out,
             Contains("{\"country\":\"fr\"}"));
}

TEST_CASE("timepoolctl claims, servers trust, accounts limit, reports", "[claims]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO accounts (email, password_hash) VALUES ('vol@example.net', 'x')");

  auto shown = ctl_json(db, {"claims"});
  REQUIRE(shown.size() == 1);
  CHECK(shown[0]["netspeed_cap"] == 1500);
  CHECK(shown[0]["trial_days"] == 14);
  CHECK(shown[0]["max_servers"] == 20);
  CHECK(shown[0]["reports_per_day"] == 5);
  auto set = ctl(db, {"claims", "--netspeed-cap", "3000", "--trial-days", "7", "--max-servers", "2"});
  REQUIRE(set.status.ok());
  CHECK_THAT(set.out, Contains("3000"));
  auto after = ctl_json(db, {"claims"});
  CHECK(after[0]["netspeed_cap"] == 3000);
  CHECK(after[0]["trial_days"] == 7);
  CHECK(after[0]["max_servers"] == 2);
  auto bad_cap = ctl(db, {"claims", "--netspeed-cap", "1234"});
  CHECK(bad_cap.status.code == 1);
  CHECK_THAT(bad_cap.err, Contains("one of the offered netspeeds"));

  // A volunteer's server (added the way the web adds it: with a trial) is capped; trust ends it.
  c.exec("INSERT INTO servers (address, country, netspeed, owner_id, trial_until) "
         "SELECT '81.2.69.7', 'de', 100000, id, new_server_trial_end() FROM accounts");
  CHECK(row_where(ctl_json(db, {"servers", "list"}), "address", "81.2.69.7")["netspeed"] == 3000);
  auto trust = ctl(db, {"servers", "trust", "81.2.69.7"});
  REQUIRE(trust.status.ok());
  CHECK_THAT(trust.out, Contains("netspeed 100000 kbit/s"));
  CHECK(row_where(ctl_json(db, {"servers", "list"}), "address", "81.2.69.7")["netspeed"] == 100000);

  // The per-account limit (2): the third add is refused with what to do; a per-account limit
  // lets it in.
  REQUIRE(ctl(db, {"servers", "add", "81.2.69.8", "--country", "de", "--owner", "vol@example.net"})
              .status.ok());
  auto third = ctl(db, {"servers", "add", "81.2.69.9", "--country", "de", "--owner", "vol@example.net"});
  CHECK(third.status.code == 1);
  CHECK_THAT(third.err, Contains("timepoolctl accounts limit vol@example.net N"));
  REQUIRE(ctl(db, {"accounts", "limit", "vol@example.net", "3"}).status.ok());
  CHECK(ctl(db, {"servers", "add", "81.2.69.9", "--country", "de", "--owner", "vol@example.net"})
            .status.ok());
  CHECK_THAT(ctl(db, {"accounts", "limit", "nobody@example.net", "3"}).err,
             Contains("no account nobody@example.net"));

  // A report holds the server; decide it from the command line.
  c.exec("UPDATE servers SET score = 15 WHERE address = '81.2.69.8'");
  auto rid = c.exec("SELECT report_address('81.2.69.8', 'noc@example.org', 'ours', '10.0.0.1')")
                 .get<int64_t>(0, 0);
  auto reports = ctl_json(db, {"reports", "list"});
  REQUIRE(reports.size() == 1);
  CHECK(reports[0]["id"] == rid);
  CHECK(reports[0]["address"] == "81.2.69.8");
  CHECK(reports[0]["state"] == "open (held out of DNS)");
  CHECK(row_where(ctl_json(db, {"servers", "list"}), "address", "81.2.69.8")["in_dns"] == false);
  auto decided = ctl(db, {"reports", "decide", std::to_string(rid), "dismissed"});
  REQUIRE(decided.status.ok());
  CHECK_THAT(decided.out, Contains("no longer held"));
  CHECK(row_where(ctl_json(db, {"servers", "list"}), "address", "81.2.69.8")["in_dns"] == true);
  CHECK(ctl_json(db, {"reports", "list"})[0]["state"] == "dismissed");
  auto again = ctl(db, {"reports", "decide", std::to_string(rid), "disabled"});
  CHECK(again.status.code == 1);
  CHECK_THAT(again.err, Contains("decided already"));
  CHECK(ctl(db, {"reports", "decide", std::to_string(rid), "maybe"}).status.code == 2);
  auto audit = ctl_json(db, {"audit", "list"});
  bool trusted = false, dismissed = false;
  for (const auto& e : audit) {
    trusted |= e["action"] == "server.trust";
    dismissed |= e["action"] == "report.dismiss";
  }
  CHECK(trusted);
  CHECK(dismissed);
}

TEST_CASE("timepoolctl says so after every command while monitoring is out", "[outage]") {
  TestDb db;
  auto c = db.connect();
  c.exec("INSERT INTO servers (address, netspeed, country, score) VALUES ('192.0.2.10', 1500, 'de', 15)");
  c.exec("INSERT INTO monitors (name, key_hash, status) VALUES ('m1', md5('m1'), 'active')");
  c.exec("INSERT INTO server_scores (server_id, monitor_id, score, updated_at) "
         "SELECT s.id, m.id, 18, now() FROM servers s, monitors m");
  auto fine = ctl(db, {"servers", "list"});
  REQUIRE(fine.status.ok());
  CHECK_THAT(fine.err, !Contains("monitoring outage"));
  c.exec("UPDATE server_scores SET updated_at = now() - interval '20 minutes'");
  auto out = ctl(db, {"servers", "list"});
  REQUIRE(out.status.ok());
  CHECK_THAT(out.err, Contains("warning: monitoring outage: no monitor has reported since"));
  // --json output stays clean for scripts: the warning is on stderr only.
  auto json = ctl(db, {"servers", "list", "--json"});
  CHECK(nlohmann::json::parse(json.out).size() == 1);
  CHECK_THAT(json.err, Contains("monitoring outage"));
}
