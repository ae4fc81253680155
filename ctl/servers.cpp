// timepoolctl servers: list, add, remove, disable, enable, netspeed, country, trust.
#include <algorithm>
#include <array>
#include <ostream>

#include "core/address.hpp"
#include "core/geo.hpp"
#include "ctl/commands.hpp"
#include "ctl/listing.hpp"

namespace timepool::ctl {
namespace {

constexpr std::array<int, 15> kNetspeeds = {0,      512,     1500,    3000,    6000,
                                            12000,  25000,   50000,   100000,  250000,
                                            500000, 1000000, 1500000, 2000000, 3000000};

std::string netspeed_choices() {
  std::string s;
  for (int n : kNetspeeds) s += (s.empty() ? "" : ", ") + std::to_string(n);
  return s;
}

void check_netspeed(int kbits) {
  if (std::find(kNetspeeds.begin(), kNetspeeds.end(), kbits) == kNetspeeds.end()) {
    throw Error("netspeed " + std::to_string(kbits) + " is not offered; choose one of (kbit/s): " +
                netspeed_choices());
  }
}

// The canonical text of one host address, or an Error that says what is accepted.
std::string canonical_address(const std::string& text) {
  auto a = address::parse(text);
  if (!a) throw Error(text + " is not one IPv4 or IPv6 address (for example 192.0.2.7 or 2001:db8::7)");
  return a->to_string();
}

// The id of the server at `address` that is still in the pool (not deleted).
int64_t server_id(pg::Connection& conn, const std::string& address) {
  auto addr = canonical_address(address);
  auto r = conn.exec("SELECT id FROM servers WHERE address = $1::inet AND deleted_at IS NULL", addr);
  if (r.rows() == 0) {
    throw Error("no server " + addr + " in the pool ('timepoolctl servers list' shows them)");
  }
  return r.get<int64_t>(0, 0);
}

// A country zone's own name: an alias (uk) is stored as its target (gb).
std::string country_zone(pg::Connection& conn, const std::string& code) {
  auto r = conn.exec(
      "SELECT coalesce(t.name, z.name) FROM zones z LEFT JOIN zones t ON t.id = z.alias_of "
      "WHERE z.name = lower($1) AND z.kind = 'country'",
      code);
  if (r.rows() == 0) {
    throw Error("no country zone " + code +
                " (use an ISO 3166 code such as de or us; 'timepoolctl zones list --kind "
                "country' shows them)");
  }
  return r.get<std::string>(0, 0);
}

// The country of `addr` from the GeoIP ranges, or an Error asking for --country.
std::string country_from_geoip(const std::string& addr) {
  auto a = address::parse(addr);
  try {
    auto db = geo::open_geo_db("");
    if (auto cc = db->country(*a)) return std::string(cc->str());
  } catch (const std::exception&) {
    throw Error("no GeoIP data to find the country of " + addr + ": give --country CODE");
  }
  throw Error("GeoIP does not know the country of " + addr + ": give --country CODE");
}

void update_one(pg::Connection& conn, const std::string& address, std::string_view sql,
                const std::string& arg) {
  int64_t id = server_id(conn, address);
  conn.exec(sql, id, arg);
}

}  // namespace

void servers_list(pg::Connection& conn, bool json, std::ostream& out) {
  auto r = conn.exec(
      "SELECT host(s.address) AS address, a.email AS owner, s.netspeed, s.country, s.score, "
      "       EXISTS (SELECT 1 FROM eligible_servers e WHERE e.id = s.id) AS in_dns, "
      "       s.disabled_at IS NOT NULL AS disabled, s.deletion_on::text AS deletion_on, "
      "       CASE WHEN s.disabled_at IS NOT NULL THEN 'disabled' "
      "            WHEN s.deletion_on IS NOT NULL THEN 'deleted on ' || s.deletion_on "
      "            WHEN a.disabled_at IS NOT NULL THEN 'owner disabled' "
      "            WHEN s.netspeed = 0 THEN 'monitoring only' END AS note "
      "FROM servers s LEFT JOIN accounts a ON a.id = s.owner_id "
      "WHERE s.deleted_at IS NULL ORDER BY family(s.address), s.address");
  auto l = read_listing(r,
                        {{"ADDRESS", "address"},
                         {"OWNER", "owner"},
                         {"NETSPEED", "netspeed", ColumnType::Int},
                         {"COUNTRY", "country"},
                         {"SCORE", "score", ColumnType::Real},
                         {"IN DNS", "in_dns", ColumnType::Bool},
                         {"NOTE", "note"}},
                        "servers");
  if (json) {
    // Scripts get the state as fields too, not only as the note's words.
    l = read_listing(r,
                     {{"", "address"},
                      {"", "owner"},
                      {"", "netspeed", ColumnType::Int},
                      {"", "country"},
                      {"", "score", ColumnType::Real},
                      {"", "in_dns", ColumnType::Bool},
                      {"", "disabled", ColumnType::Bool},
                      {"", "deletion_on"},
                      {"", "note"}},
                     "servers");
  }
  print_listing(l, json, out);
}

void server_add(pg::Connection& conn, const ServerAdd& a, std::ostream& out) {
  auto addr = canonical_address(a.address);
  auto parsed = address::parse(addr);
  if (!address::is_public_unicast(*parsed, a.allow_loopback)) {
    throw Error(addr + " is not a public unicast address (" +
                std::string(address::describe(address::classify(*parsed))) +
                "); only addresses reachable from the whole Internet can serve the pool");
  }
  check_netspeed(a.netspeed);
  std::string country = country_zone(conn, a.country.empty() ? country_from_geoip(addr) : a.country);
  std::optional<int64_t> owner;
  if (!a.owner.empty()) {
    auto r = conn.exec("SELECT id FROM accounts WHERE lower(email) = lower($1)", a.owner);
    if (r.rows() == 0) {
      throw Error("no account " + a.owner + " ('timepoolctl accounts list' shows them)");
    }
    owner = r.get<int64_t>(0, 0);
  }
  pg::Result added;
  try {
    added = conn.exec(
        "INSERT INTO servers (address, owner_id, netspeed, country) VALUES ($1, $2, $3, $4) "
        "RETURNING netspeed",
        addr, owner, a.netspeed, country);
  } catch (const pg::Error& e) {
    if (e.is_unique_violation()) throw Error("server " + addr + " is already in the pool");
    if (e.sqlstate() == "TP001") {  // servers_claims(), schema/0020_claims.sql
      throw Error("account " + a.owner + " already has as many servers as it may have; "
                  "raise its limit with 'timepoolctl accounts limit " + a.owner + " N'");
    }
    throw;
  }
  const int netspeed = added.get<int32_t>(0, 0);
  audit(conn, "server.add", addr,
        "country " + country + ", netspeed " + std::to_string(a.netspeed) +
            (a.owner.empty() ? "" : ", owner " + a.owner));
  out << "added server " << addr << " (country " << country << ", netspeed " << netspeed
      << " kbit/s); it enters DNS once the monitors score it 10 or more\n";

}

void server_remove(pg::Connection& conn, const std::string& address,
                   const std::optional<std::string>& on, std::ostream& out) {
  int64_t id = server_id(conn, address);
  if (on) {
    try {
      conn.exec("UPDATE servers SET deletion_on = $2::date WHERE id = $1", id, *on);
    } catch (const pg::Error& e) {
      throw Error("--on " + *on + " is not a date (YYYY-MM-DD): " + e.what());
    }
    audit(conn, "server.remove", canonical_address(address), "deletion on " + *on);
    out << "server " << canonical_address(address) << " left DNS and will be deleted on " << *on
        << "\n";
    return;
  }
  conn.exec(
      "UPDATE servers SET deletion_on = least(coalesce(deletion_on, current_date), current_date), "
      "deleted_at = now() WHERE id = $1",
      id);
  audit(conn, "server.remove", canonical_address(address), "deleted now");
  out << "server " << canonical_address(address)
      << " removed from the pool (its score history stays)\n";
}

void server_set_disabled(pg::Connection& conn, const std::string& address, bool disabled,
                         const std::string& reason, std::ostream& out) {
  int64_t id = server_id(conn, address);
  conn.exec(disabled ? "UPDATE servers SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1"
                     : "UPDATE servers SET disabled_at = NULL WHERE id = $1",
            id);
  audit(conn, disabled ? "server.disable" : "server.enable", canonical_address(address), reason);
  out << "server " << canonical_address(address)
      << (disabled ? " disabled: it left DNS and is not probed\n"
                   : " enabled: it is probed again and enters DNS with a score of 10 or more\n");
}

void server_set_netspeed(pg::Connection& conn, const std::string& address, int kbits,
                         std::ostream& out) {
  check_netspeed(kbits);
  update_one(conn, address, "UPDATE servers SET netspeed = $2::integer WHERE id = $1",
             std::to_string(kbits));
  audit(conn, "server.netspeed", canonical_address(address), std::to_string(kbits));
  out << "server " << canonical_address(address) << " netspeed is now " << kbits << " kbit/s"
      << (kbits == 0 ? " (monitoring only: never in DNS)" : "") << "\n";
}

void server_trust(pg::Connection& conn, const std::string& address, std::ostream& out) {
  int64_t id = server_id(conn, address);
  conn.exec("SELECT trust_server($1)", id);
  // Read after the change: a subquery of the same statement would see the row before it.
  const int netspeed = conn.exec("SELECT netspeed FROM servers WHERE id = $1", id).get<int32_t>(0, 0);
  audit(conn, "server.trust", canonical_address(address), "netspeed " + std::to_string(netspeed));
  out << "server " << canonical_address(address) << " is trusted: its trial ended, netspeed "
      << netspeed << " kbit/s\n";
}

void server_set_country(pg::Connection& conn, const std::string& address, const std::string& code,
                        std::ostream& out) {
  std::string country = country_zone(conn, code);
  update_one(conn, address, "UPDATE servers SET country = $2 WHERE id = $1", country);
  audit(conn, "server.country", canonical_address(address), country);
  out << "server " << canonical_address(address) << " is now in country zone " << country
      << " (and its continent)\n";
}

}  // namespace timepool::ctl
