#include "server/dns_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdint>


namespace timepool::server {

net::Endpoint parse_listen(const std::string& text, const std::string& key) {
  auto ep = net::Endpoint::parse(text);
  if (!ep) throw config::Error(key + ": '" + text + "': want ADDRESS:PORT or [IPV6]:PORT");
  return *ep;
}

namespace {

bool below(const std::vector<uint8_t>& name, const std::vector<uint8_t>& apex) {
  if (name.size() <= apex.size()) return false;
  const size_t off = name.size() - apex.size();
  if (!std::equal(apex.begin(), apex.end(), name.begin() + static_cast<long>(off))) return false;
  for (size_t i = 0; i < off; i += name[i] + 1u) {
    if (i + name[i] + 1u == off) return true;  // on a label boundary
  }
  return false;
}

// "ns1.pool.example 192.0.2.53": one of the `ns` names below one of our apexes, and an address.
AnswerConfig::NsAddress parse_ns_address(const std::string& entry, const AnswerConfig& a,
                                         const std::string& key) {
  const auto bad = [&](const std::string& why) {
    return config::Error(key + ": '" + entry + "': " + why);
  };
  const size_t sp = entry.find(' ');
  if (sp == std::string::npos) throw bad("want \"NS-NAME ADDRESS\"");
  std::vector<uint8_t> name;
  try {
    name = name_to_wire(entry.substr(0, sp));
  } catch (const std::invalid_argument& e) {
    throw bad(e.what());
  }
  const auto ns = std::find(a.ns.begin(), a.ns.end(), name);
  if (ns == a.ns.end()) throw bad("not one of dns.ns");
  if (std::none_of(a.apexes.begin(), a.apexes.end(),
                   [&](const auto& apex) { return below(name, apex); })) {
    throw bad("only names below an apex get addresses here (glue)");
  }
  const auto addr = address::parse(entry.substr(sp + 1));
  if (!addr) throw bad("not an IPv4 or IPv6 address");
  return AnswerConfig::NsAddress{static_cast<size_t>(ns - a.ns.begin()), *addr};
}

}  // namespace

DnsConfig read_dns_config(const config::Document& doc) {
  const auto s = doc.section("dns");
  const std::string where = doc.origin() + ": dns.";
  DnsConfig c;
  AnswerConfig& a = c.answer;
  auto names = [&](const char* key, const std::vector<std::string>& def) {
    std::vector<std::vector<uint8_t>> out;
    for (const auto& n : s.get_strings(key, def)) {
      try {
        out.push_back(name_to_wire(n));
      } catch (const std::invalid_argument& e) {
        throw config::Error(where + key + ": '" + n + "': " + e.what());
      }
    }
    if (out.empty()) throw config::Error(where + key + ": needs at least one name");
    return out;
  };
  a.apexes = names("apex", {"pool.example"});
  const std::string first_apex = wire_to_name(a.apexes.front());
  a.ns = names("ns", {"ns1." + first_apex});
  {
    const std::string rname = s.get_string("soa_rname", "hostmaster." + first_apex);
    try {
      a.soa_rname = name_to_wire(rname);
    } catch (const std::invalid_argument& e) {
      throw config::Error(where + "soa_rname: '" + rname + "': " + e.what());
    }
  }
  for (const auto& entry : s.get_strings("ns_addresses", {})) {
    a.ns_addresses.push_back(parse_ns_address(entry, a, where + "ns_addresses"));
  }
  a.ttl = static_cast<uint32_t>(s.get_int("ttl", 150, 30, 86400));
  a.ns_ttl = static_cast<uint32_t>(s.get_int("ns_ttl", 86400, 30, 604800));
  a.soa_ttl = static_cast<uint32_t>(s.get_int("soa_ttl", 3600, 30, 604800));
  a.negative_ttl = static_cast<uint32_t>(s.get_int("negative_ttl", 60, 0, 86400));
  a.soa_refresh = static_cast<uint32_t>(s.get_int("soa_refresh", 3600, 1, 2147483647));
  a.soa_retry = static_cast<uint32_t>(s.get_int("soa_retry", 600, 1, 2147483647));
  a.soa_expire = static_cast<uint32_t>(s.get_int("soa_expire", 1209600, 1, 2147483647));
  a.max_answers = static_cast<size_t>(s.get_int("answers", 4, 1, static_cast<int64_t>(Pool::kMaxPick)));
  a.aaaa_all_labels = s.get_choice("aaaa_labels", "2", {"2", "all"}) == "all";
  a.edns_max = static_cast<uint16_t>(s.get_int("edns_max_payload", 1232, 512, 4096));
  // CHAOS identification (RFC 4892) says which software and which host answers: off unless
  // configured, so a default install reveals neither its version nor its host name.
  a.version = s.get_string("version", "");
  a.identity = s.get_string("identity", "");

  for (const auto& l : s.get_strings("listen", {"0.0.0.0:53", "[::]:53"})) {
    c.listen.push_back(parse_listen(l, where + "listen"));
  }
  if (c.listen.empty()) throw config::Error(where + "listen: needs at least one address");
  c.udp_threads = static_cast<int>(s.get_int("udp_threads", 2, 1, 64));
  c.tcp_max_connections = static_cast<int>(s.get_int("tcp_max_connections", 512, 1, 65536));
  c.tcp_idle_timeout_ms = static_cast<int>(s.get_int("tcp_idle_timeout_ms", 10000, 100, 600000));
  c.tcp_message_timeout_ms =
      static_cast<int>(s.get_int("tcp_message_timeout_ms", 2000, 100, 600000));
  c.tcp_max_per_address = static_cast<int>(s.get_int("tcp_max_per_address", 32, 1, 65536));
  c.rrl.rate = static_cast<uint32_t>(s.get_int("rrl_rate", 200, 0, 1000000));
  c.rrl.slip = static_cast<uint32_t>(s.get_int("rrl_slip", 2, 0, 100));
  c.rrl.v4_prefix = static_cast<int>(s.get_int("rrl_ipv4_prefix", 24, 8, 32));
  c.rrl.v6_prefix = static_cast<int>(s.get_int("rrl_ipv6_prefix", 56, 32, 128));
  c.rrl.table_size = static_cast<size_t>(s.get_int("rrl_table_size", 65536, 1024, 16777216));
  c.metrics_listen = s.get_string("metrics_listen", "127.0.0.1:9153");
  if (!c.metrics_listen.empty()) parse_listen(c.metrics_listen, where + "metrics_listen");
  c.snapshot_file = s.get_string("snapshot_file", "/var/lib/timepool/dns-snapshot");
  c.rebuild_interval_s = static_cast<int>(s.get_int("rebuild_interval", 60, 1, 86400));
  c.notify_debounce_ms = static_cast<int>(s.get_int("notify_debounce_ms", 200, 0, 60000));
  c.standby_poll_ms = static_cast<int>(s.get_int("standby_poll_ms", 250, 20, 60000));
  c.user = s.get_string("user", "");
  c.rng_seed = static_cast<uint64_t>(s.get_int("rng_seed", 0, 0, INT64_MAX));
  return c;
}

}  // namespace timepool::server
