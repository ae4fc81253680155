// timepoolctl zones: list (with the servers each zone really answers with) and add.
#include <ostream>

#include "ctl/commands.hpp"
#include "ctl/listing.hpp"

namespace timepool::ctl {
namespace {

// The servers each zone hands out, as timepool-dns builds them: a country, continent or the
// global zone its own members; an alias (uk) its target's (gb); a vendor zone answers like the
// global zone, so it counts the global zone's. A vendor zone is live once its request is
// approved.
constexpr const char* kZonesQuery = R"(
WITH counts AS (
  SELECT sz.zone_id, count(*) AS n
  FROM server_zones sz JOIN eligible_servers e ON e.id = sz.server_id
  GROUP BY sz.zone_id
), global AS (SELECT id FROM zones WHERE kind = 'global')
SELECT z.name, z.kind, p.name AS parent, t.name AS alias_of,
       coalesce(c.n, 0) AS servers_in_dns,
       CASE WHEN z.kind <> 'vendor' THEN true ELSE v.id IS NOT NULL END AS live,
       z.description
FROM zones z
LEFT JOIN zones p ON p.id = z.parent_id
LEFT JOIN zones t ON t.id = z.alias_of
LEFT JOIN vendor_zones v ON v.zone_id = z.id AND v.status = 'approved'
LEFT JOIN counts c ON c.zone_id = CASE WHEN z.kind = 'vendor' THEN (SELECT id FROM global)
                                       ELSE coalesce(z.alias_of, z.id) END
WHERE ($1 = '' OR z.kind = $1) AND ($2 = false OR coalesce(c.n, 0) > 0)
ORDER BY array_position(ARRAY['global','continent','country','vendor'], z.kind), z.name
)";

int zone_id(pg::Connection& conn, const std::string& name, const std::string& kind) {
  auto r = conn.exec("SELECT id FROM zones WHERE name = $1 AND kind = $2", name, kind);
  if (r.rows() == 0) {
    throw Error("no " + kind + " zone " + name + " ('timepoolctl zones list --kind " + kind +
                "' shows them)");
  }
  return static_cast<int>(r.get<int64_t>(0, 0));
}

void check_free(pg::Connection& conn, const std::string& name) {
  if (conn.exec("SELECT 1 FROM zones WHERE name = $1", name).rows() > 0) {
    throw Error("a zone named " + name + " exists already");
  }
  if (conn.exec("SELECT 1 FROM vendor_zones WHERE name = $1 AND status IN ('new', 'pending')", name)
          .rows() > 0) {
    throw Error("a vendor request for " + name +
                " waits for a decision: use 'timepoolctl vendors approve " + name + "'");
  }
}

void add_vendor_zone(pg::Connection& conn, const ZoneAdd& z) {
  if (z.organization.empty() || z.contact.empty()) {
    throw Error("a vendor zone needs --organization and --contact (who runs the devices)");
  }
  pg::Transaction tx(conn);
  auto id = tx.exec("INSERT INTO zones (name, kind, parent_id, description) "
                    "SELECT $1, 'vendor', id, $2 FROM zones WHERE kind = 'global' RETURNING id",
                    z.name, z.description.empty() ? z.organization : z.description)
                .get<int64_t>(0, 0);
  tx.exec(
      "INSERT INTO vendor_zones (name, organization, contact, device_count, client_type, "
      "status, zone_id, decided_at, decision_reason) "
      "VALUES ($1, $2, $3, $4, $5, 'approved', $6, now(), 'added by timepoolctl')",
      z.name, z.organization, z.contact, z.devices, z.client, id);
  tx.commit();
}

}  // namespace

void zones_list(pg::Connection& conn, const std::string& kind, bool nonempty, bool json,
                std::ostream& out) {
  auto r = conn.exec(kZonesQuery, kind, nonempty);
  std::vector<Column> cols = {{"ZONE", "name"},
                              {"KIND", "kind"},
                              {"PARENT", "parent"},
                              {"ALIAS OF", "alias_of"},
                              {"SERVERS IN DNS", "servers_in_dns", ColumnType::Int}};
  if (json) {
    cols.push_back({"LIVE", "live", ColumnType::Bool});
    cols.push_back({"DESCRIPTION", "description"});
  }
  print_listing(read_listing(r, cols, "zones"), json, out);
}

void zone_add(pg::Connection& conn, const ZoneAdd& z, std::ostream& out) {
  check_free(conn, z.name);
  try {
    if (z.kind == "vendor") {
      add_vendor_zone(conn, z);
    } else if (!z.alias_of.empty()) {
      int target = zone_id(conn, z.alias_of, "country");
      conn.exec("INSERT INTO zones (name, kind, parent_id, alias_of, description) "
                "SELECT $1, 'country', parent_id, id, $3 FROM zones WHERE id = $2",
                z.name, target, z.description);
    } else {
      if (z.continent.empty()) {
        throw Error("a country zone needs --continent NAME (or --alias-of COUNTRY)");
      }
      int parent = zone_id(conn, z.continent, "continent");
      conn.exec("INSERT INTO zones (name, kind, parent_id, description) "
                "VALUES ($1, 'country', $2, $3)",
                z.name, parent, z.description);
    }
  } catch (const pg::Error& e) {
    if (e.is_check_violation()) {
      throw Error("not a valid zone name: " + z.name +
                  " (lower-case letters, digits and '-'; vendor names 4 to 40 characters) or "
                  "value: " + e.what());
    }
    throw;
  }
  audit(conn, "zone.add", z.name,
        z.kind == "vendor" ? "vendor " + z.organization
                           : (z.alias_of.empty() ? "country in " + z.continent : "alias of " + z.alias_of));
  out << "added " << z.kind << " zone " << z.name
      << (z.kind == "vendor" ? " (live in DNS now, answering like the global zone)" : "") << "\n";
}

}  // namespace timepool::ctl
