// The JSON API (documented in web/API.md). Errors are {"error": "...", "status": N} with the
// same HTTP status.
#include "core/address.hpp"
#include "web/app.hpp"
#include "web/queries.hpp"

namespace timepool::web {

namespace {

using nlohmann::json;

template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json();
}

json zone_json(const ZoneSummary& z) {
  return {{"name", z.name},
          {"kind", z.kind},
          {"description", z.description},
          {"parent", opt(z.parent)},
          {"alias_of", opt(z.alias_of)},
          {"active", {{"v4", z.active_v4}, {"v6", z.active_v6}}},
          {"netspeed", {{"v4", z.netspeed_v4}, {"v6", z.netspeed_v6}}},
          {"registered", z.registered}};
}

}  // namespace

Response api_zones(Ctx& c) {
  json arr = json::array();
  for (const auto& z : list_zones(c.db)) {
    if (z.kind != "vendor") arr.push_back(zone_json(z));
  }
  return Response::json(200, {{"zones", arr}});
}

Response api_zone(Ctx& c) {
  auto z = find_zone(c.db, c.req.match(1));
  if (!z) return Response::json_error(404, "no such zone");
  json j = zone_json(*z);
  json subs = json::array();
  for (const auto& s : sub_zones(c.db, z->name)) {
    if (s.kind != "vendor") subs.push_back(zone_json(s));
  }
  j["zones"] = subs;
  std::string base = z->name == "@" ? c.app.cfg.pool_domain : z->name + "." + c.app.cfg.pool_domain;
  j["dns_names"] = {base, "0." + base, "1." + base, "2." + base, "3." + base};
  return Response::json(200, j);
}

Response api_server(Ctx& c) {
  auto a = address::parse(c.req.match(1));
  if (!a) return Response::json_error(400, "not an IP address");
  auto s = find_server(c.db, *a);
  if (!s) return Response::json_error(404, "no server with this address");
  json mons = json::array();
  for (const auto& m : monitor_scores(c.db, s->id)) {
    mons.push_back({{"monitor", m.monitor},
                    {"status", m.status},
                    {"score", m.score},
                    {"step", opt(m.step)},
                    {"offset", opt(m.offset_s)},
                    {"rtt", opt(m.rtt_s)},
                    {"stratum", opt(m.stratum)},
                    {"leap", opt(m.leap)},
                    {"error", opt(m.error)},
                    {"updated_at", m.updated_at}});
  }
  return Response::json(200, {{"address", s->address},
                              {"ip_version", s->ip_version},
                              {"score", s->score},
                              {"score_updated_at", opt(s->score_updated_at)},
                              {"in_dns", s->in_dns},
                              {"netspeed", s->netspeed},
                              {"mode", s->mode},
                              {"country", s->country},
                              {"zones", s->zones},
                              {"created_at", s->created_at},
                              {"deletion_on", opt(s->deletion_on)},
                              {"disabled", s->disabled_at.has_value()},
                              {"monitors", mons}});
}

Response api_server_log(Ctx& c) {
  auto rows = log_rows(c, true);
  if (auto* r = std::get_if<Response>(&rows)) return std::move(*r);
  auto a = address::parse(c.req.match(1));
  return Response::json(200, {{"address", a->to_string()},
                              {"history", log_json(std::get<std::vector<LogRow>>(rows))}});
}

}  // namespace timepool::web
