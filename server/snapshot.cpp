#include "server/snapshot.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <unordered_map>
#include <sstream>
#include <stdexcept>

#include "core/address.hpp"

namespace timepool::server {

namespace {

constexpr uint32_t kNoPool = Node::kNoPool;

// The pools of one zone: the bare label and the four numbered labels, per family.
struct PoolSet {
  std::array<uint32_t, 5> v4{kNoPool, kNoPool, kNoPool, kNoPool, kNoPool};  // [0] bare, [1+i]
  std::array<uint32_t, 5> v6{kNoPool, kNoPool, kNoPool, kNoPool, kNoPool};
};

// Zone id -> index in src.zones. Zone ids are a serial column: a flat table when they are
// dense enough (every server looks up its zones here), a hash map otherwise.
class ZoneIndex {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  explicit ZoneIndex(const std::vector<ZoneRow>& zones) {
    int64_t max_id = -1;
    bool flat = true;
    for (const auto& z : zones) {
      flat &= z.id >= 0;
      max_id = std::max(max_id, z.id);
    }
    flat &= max_id < static_cast<int64_t>(16 * zones.size() + 4096);
    if (flat) flat_.assign(static_cast<size_t>(max_id + 1), kNone);
    for (size_t i = 0; i < zones.size(); ++i) {
      if (flat) {
        size_t& slot = flat_[static_cast<size_t>(zones[i].id)];
        if (slot == kNone) slot = i;  // the first row of an id wins, as with emplace
      } else {
        map_.emplace(zones[i].id, i);
      }
    }
    flat_used_ = flat;
  }
  size_t find(int64_t id) const {
    if (flat_used_) {
      return id >= 0 && static_cast<uint64_t>(id) < flat_.size() ? flat_[static_cast<size_t>(id)] : kNone;
    }
    auto it = map_.find(id);
    return it == map_.end() ? kNone : it->second;
  }

 private:
  bool flat_used_ = false;
  std::vector<size_t> flat_;
  std::unordered_map<int64_t, size_t> map_;
};

}  // namespace

// Snapshot::build in its steps: members per zone, pools, names, parents.
//
// At 100,000 servers this runs on every rebuild (bench/dns --scale), so the members of every
// zone are one flat array (counted, then filled) of the servers' dense indexes, and each pool
// is filled from compact per-server arrays in id order.
class SnapshotBuilder {
 public:
  SnapshotBuilder(const SourceData& src, uint32_t serial)
      : src_(src), snap_(std::shared_ptr<Snapshot>(new Snapshot())), zone_index_(src.zones) {
    snap_->serial_ = serial;
  }

  std::shared_ptr<const Snapshot> build() {
    collect_members();
    const std::vector<PoolSet> sets = make_pool_sets();
    for (size_t i = 0; i < src_.zones.size(); ++i) add_zone(i, sets[i]);
    add_parents();
    return snap_;
  }

 private:
  // The members of zone z and family f (0: IPv4, 1: IPv6): dense server indexes, ascending
  // (that is, in server id order).
  std::span<const uint32_t> members(size_t z, int f) const {
    const size_t list = z * 2 + static_cast<size_t>(f);
    return {members_.data() + start_[list], start_[list + 1] - start_[list]};
  }

  // Dense indexes in server id order; per dense index the address, netspeed and id; and the
  // members of every zone and family.
  void collect_members() {
    const auto& servers = src_.servers;
    std::vector<uint32_t> order(servers.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
    // The database hands the rows out in id order as a rule: sort only when they are not.
    const auto by_id = [&](uint32_t a, uint32_t b) { return servers[a].id < servers[b].id; };
    if (!std::is_sorted(order.begin(), order.end(), by_id)) std::sort(order.begin(), order.end(), by_id);
    snap_->server_ids_.reserve(servers.size());
    addr_.reserve(servers.size());
    weight_.reserve(servers.size());
    // (list, dense) for every membership: counted first, then placed, so the members of all
    // zones live in one array.
    std::vector<std::pair<uint32_t, uint32_t>> refs;
    refs.reserve(servers.size() * 3);
    start_.assign(src_.zones.size() * 2 + 1, 0);
    for (uint32_t si : order) {
      const ServerRow& s = servers[si];
      if (s.netspeed == 0) {
        ++snap_->skipped_;
        continue;
      }
      const auto dense = static_cast<uint32_t>(snap_->server_ids_.size());
      snap_->server_ids_.push_back(s.id);
      addr_.push_back(s.addr);
      weight_.push_back(s.netspeed);
      // A handful of zones per server: skipping repeats in place beats sorting a copy.
      for (size_t k = 0; k < s.zones.size(); ++k) {
        const int64_t z = s.zones[k];
        if (std::find(s.zones.begin(), s.zones.begin() + static_cast<long>(k), z) !=
            s.zones.begin() + static_cast<long>(k)) {
          continue;
        }
        const size_t zi = zone_index_.find(z);
        if (zi == ZoneIndex::kNone) continue;
        const auto list = static_cast<uint32_t>(zi * 2 + (s.v6 ? 1 : 0));
        refs.emplace_back(list, dense);
        ++start_[list + 1];
      }
    }
    for (size_t l = 1; l < start_.size(); ++l) start_[l] += start_[l - 1];
    members_.resize(refs.size());
    std::vector<size_t> next(start_.begin(), start_.end() - 1);
    for (const auto& [list, dense] : refs) members_[next[list]++] = dense;
  }

  uint32_t add_pool(std::span<const uint32_t> members, uint8_t len) {
    Pool pool(len);
    pool.reserve(members.size());
    for (uint32_t d : members) {
      pool.add(std::span<const uint8_t>(addr_[d].data(), len), weight_[d], d);
    }
    pool.seal();
    snap_->pools_.push_back(std::move(pool));
    return static_cast<uint32_t>(snap_->pools_.size() - 1);
  }

  // The bare pool, and four disjoint quarters once there are kSplitMin members (else the
  // numbered labels share the bare pool).
  void make_pools(std::span<const uint32_t> members, bool v6, std::array<uint32_t, 5>& out) {
    if (members.empty()) return;
    const uint8_t len = v6 ? 16 : 4;
    out[0] = add_pool(members, len);
    if (members.size() < Snapshot::kSplitMin) {
      for (size_t q = 0; q < 4; ++q) out[1 + q] = out[0];
      return;
    }
    std::vector<uint64_t> weights(members.size());
    std::vector<int64_t> ids(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      weights[i] = weight_[members[i]];
      ids[i] = snap_->server_ids_[members[i]];
    }
    const std::vector<uint8_t> quarter = split_quarters(weights, ids);
    std::array<size_t, 4> count{};
    for (uint8_t q : quarter) ++count[q];
    std::vector<uint32_t> parts(members.size());
    std::array<size_t, 4> at{0, count[0], count[0] + count[1], count[0] + count[1] + count[2]};
    const std::array<size_t, 4> begin = at;
    for (size_t i = 0; i < members.size(); ++i) parts[at[quarter[i]]++] = members[i];
    for (size_t q = 0; q < 4; ++q) {
      out[1 + q] = add_pool(std::span<const uint32_t>(parts.data() + begin[q], count[q]), len);
    }
  }

  // Own pools for real zones first; vendor zones share the global pools, aliases their
  // target's.
  std::vector<PoolSet> make_pool_sets() {
    std::vector<PoolSet> sets(src_.zones.size());
    std::optional<size_t> global;
    size_t pools = 0;
    for (size_t i = 0; i < src_.zones.size(); ++i) {
      const ZoneRow& z = src_.zones[i];
      if (z.kind == ZoneKind::Vendor || z.alias_of) continue;
      for (int f = 0; f < 2; ++f) pools += members(i, f).empty() ? 0 : 5;
    }
    snap_->pools_.reserve(pools);
    for (size_t i = 0; i < src_.zones.size(); ++i) {
      const ZoneRow& z = src_.zones[i];
      if (z.kind == ZoneKind::Global && !global) global = i;
      if (z.kind == ZoneKind::Vendor || z.alias_of) continue;
      make_pools(members(i, 0), false, sets[i].v4);
      make_pools(members(i, 1), true, sets[i].v6);
    }
    for (size_t i = 0; i < src_.zones.size(); ++i) {
      const ZoneRow& z = src_.zones[i];
      if (z.kind == ZoneKind::Vendor && global) {
        sets[i] = sets[*global];
      } else if (z.alias_of) {
        const size_t t = zone_index_.find(*z.alias_of);
        if (t != ZoneIndex::kNone && !src_.zones[t].alias_of) sets[i] = sets[t];
      }
    }
    return sets;
  }

  bool add_node(const std::string& name, const Node& n) {
    auto [it, inserted] = snap_->nodes_.emplace(name, n);
    if (!inserted) {
      if (it->second.terminal) return false;
      it->second = n;  // an empty non-terminal made earlier becomes the real name
    }
    return true;
  }

  // The zone's entry and the names it publishes: bare and/or 0-3 (vendor zones by client type).
  void add_zone(size_t i, const PoolSet& set) {
    const ZoneRow& z = src_.zones[i];
    const bool is_global = z.kind == ZoneKind::Global;
    if (!is_global && (z.name.empty() || z.name == "@")) {
      ++snap_->skipped_;
      return;
    }
    const auto zi = static_cast<int32_t>(snap_->zones_.size());
    ZoneInfo info;
    static_cast<ZoneRow&>(info) = z;
    if (set.v4[0] != kNoPool) info.servers_v4 = static_cast<uint32_t>(snap_->pools_[set.v4[0]].size());
    if (set.v6[0] != kNoPool) info.servers_v6 = static_cast<uint32_t>(snap_->pools_[set.v6[0]].size());
    snap_->zones_.push_back(std::move(info));

    const std::string suffix = is_global ? std::string() : z.name;
    const bool bare = z.kind != ZoneKind::Vendor || z.client_type != ClientType::Ntp;
    const bool numbered = z.kind != ZoneKind::Vendor || z.client_type != ClientType::Sntp;
    bool ok = true;
    if (bare) ok &= add_node(suffix, Node{set.v4[0], set.v6[0], -1, true, zi});
    for (int q = 0; numbered && q < 4; ++q) {
      std::string name = std::to_string(q);
      if (!suffix.empty()) name += "." + suffix;
      ok &= add_node(name, Node{set.v4[1 + q], set.v6[1 + q], static_cast<int8_t>(q), true, zi});
    }
    if (!ok) ++snap_->skipped_;  // a name clash (a vendor zone named like a numbered label)
  }

  // Every ancestor of a name exists (as an empty non-terminal if nothing else): NODATA, not
  // NXDOMAIN (RFC 8020), and the apex always exists.
  void add_parents() {
    std::vector<std::string> parents{""};
    for (const auto& [name, node] : snap_->nodes_) {
      for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
        parents.push_back(name.substr(dot + 1));
      }
    }
    for (auto& p : parents) snap_->nodes_.try_emplace(std::move(p), Node{});
  }

  const SourceData& src_;
  std::shared_ptr<Snapshot> snap_;
  ZoneIndex zone_index_;
  std::vector<std::array<uint8_t, 16>> addr_;  // by dense index
  std::vector<uint32_t> weight_;                // by dense index: netspeed
  std::vector<uint32_t> members_;               // every zone's members, list by list
  std::vector<size_t> start_;                   // list (zone * 2 + family) -> first in members_
};

std::shared_ptr<const Snapshot> Snapshot::build(const SourceData& src, uint32_t serial) {
  return SnapshotBuilder(src, serial).build();
}

namespace {

// The members in the order list scheduling takes them: largest weight first, ties by id.
// Netspeeds come from a short fixed list and the snapshot lists members in id order, so
// where the ids ascend and the weights take at most kBuckets values a stable bucket pass gives
// that order in O(n); otherwise a comparison sort.
std::vector<uint32_t> lpt_order(std::span<const uint64_t> weights, std::span<const int64_t> ids) {
  const size_t n = weights.size();
  std::vector<uint32_t> order(n);
  constexpr size_t kBuckets = 32;
  std::array<uint64_t, kBuckets> value{};
  std::array<size_t, kBuckets> count{};
  size_t values = 0;
  std::vector<uint8_t> bucket(n);
  bool by_bucket = std::is_sorted(ids.begin(), ids.end());
  for (size_t i = 0; by_bucket && i < n; ++i) {
    size_t b = 0;
    while (b < values && value[b] != weights[i]) ++b;
    if (b == values) {
      if (values == kBuckets) {
        by_bucket = false;
        break;
      }
      value[values++] = weights[i];
    }
    bucket[i] = static_cast<uint8_t>(b);
    ++count[b];
  }
  if (!by_bucket) {
    for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return weights[a] != weights[b] ? weights[a] > weights[b] : ids[a] < ids[b];
    });
    return order;
  }
  // Buckets by weight, largest first; each keeps the input (id) order.
  std::array<uint8_t, kBuckets> rank{};
  for (size_t b = 0; b < values; ++b) rank[b] = static_cast<uint8_t>(b);
  std::sort(rank.begin(), rank.begin() + static_cast<long>(values),
            [&](uint8_t x, uint8_t y) { return value[x] > value[y]; });
  std::array<size_t, kBuckets> at{};
  size_t pos = 0;
  for (size_t r = 0; r < values; ++r) {
    at[rank[r]] = pos;
    pos += count[rank[r]];
  }
  for (size_t i = 0; i < n; ++i) order[at[bucket[i]]++] = static_cast<uint32_t>(i);
  return order;
}

}  // namespace

std::vector<uint8_t> split_quarters(std::span<const uint64_t> weights,
                                    std::span<const int64_t> ids) {
  assert(weights.size() == ids.size());
  const std::vector<uint32_t> order = lpt_order(weights, ids);
  std::vector<uint8_t> out(weights.size());
  std::array<uint64_t, 4> total{};
  std::array<size_t, 4> count{};
  for (uint32_t i : order) {
    // The lightest quarter; among equal totals the one with fewer members, then the lowest.
    size_t q = 0;
    for (size_t c = 1; c < 4; ++c) {
      if (total[c] < total[q] || (total[c] == total[q] && count[c] < count[q])) q = c;
    }
    out[i] = static_cast<uint8_t>(q);
    total[q] += weights[i];
    ++count[q];
  }
  return out;
}

std::vector<std::string> Snapshot::names() const {
  std::vector<std::string> out;
  out.reserve(nodes_.size());
  for (const auto& [name, node] : nodes_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

bool parse_address(std::string_view text, ServerRow& row) {
  const auto a = address::parse(text);
  if (!a) return false;
  row.v6 = a->is_v6();
  row.addr = a->bytes();
  return true;
}

bool parse_inet_binary(std::span<const uint8_t> wire, ServerRow& row) {
  // PGSQL_AF_INET and PGSQL_AF_INET6 (utils/inet.h): AF_INET + 0 and AF_INET + 1, whatever
  // the server's own AF_INET6 is.
  constexpr uint8_t kFamily4 = 2, kFamily6 = 3;
  if (wire.size() < 4) return false;
  const uint8_t family = wire[0], bits = wire[1], is_cidr = wire[2], len = wire[3];
  const bool v6 = family == kFamily6;
  if ((family != kFamily4 && !v6) || is_cidr != 0 || len != (v6 ? 16 : 4) ||
      bits != len * 8 || wire.size() != 4u + len) {
    return false;
  }
  row.v6 = v6;
  row.addr = {};
  std::copy(wire.begin() + 4, wire.end(), row.addr.begin());
  return true;
}

std::string format_address(const ServerRow& row) {
  char buf[INET6_ADDRSTRLEN];
  ::inet_ntop(row.v6 ? AF_INET6 : AF_INET, row.addr.data(), buf, sizeof buf);
  return buf;
}

// --- the on-disk copy -----------------------------------------------------------------------

std::string format_source(const SourceData& src, uint32_t serial) {
  std::string out = "timepool-dns-snapshot 1\nserial " + std::to_string(serial) + "\n";
  for (const auto& z : src.zones) {
    out += "zone " + std::to_string(z.id) + " " + z.name + " " + std::string(zone_kind_name(z.kind)) + " " +
           (z.alias_of ? std::to_string(*z.alias_of) : std::string("-")) + " " +
           std::string(client_type_name(z.client_type)) + " " +
           (z.parent_id ? std::to_string(*z.parent_id) : std::string("-")) + "\n";
  }
  for (const auto& s : src.servers) {
    out += "server " + std::to_string(s.id) + " " + format_address(s) + " " +
           std::to_string(s.netspeed) + " ";
    for (size_t i = 0; i < s.zones.size(); ++i) {
      if (i) out += ',';
      out += std::to_string(s.zones[i]);
    }
    if (s.zones.empty()) out += '-';
    out += '\n';
  }
  for (const auto& m : src.mixtures) {
    char line[160];
    std::snprintf(line, sizeof line, "mixture %d %lld %lld %.17g %.17g %.17g\n", m.v6 ? 6 : 4,
                  static_cast<long long>(m.country), static_cast<long long>(m.continent), m.own,
                  m.near, m.global);
    out += line;
  }
  out += "end " + std::to_string(src.zones.size()) + " " + std::to_string(src.servers.size());
  if (!src.mixtures.empty()) out += " " + std::to_string(src.mixtures.size());
  return out + "\n";
}

namespace {

[[noreturn]] void bad(size_t line, const std::string& why) {
  throw std::runtime_error("snapshot line " + std::to_string(line) + ": " + why);
}

// A mixture share: a finite number >= 0 written by format_source ("%.17g").
double share(std::string_view s, size_t line) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0) {
    bad(line, "bad mixture share '" + std::string(s) + "'");
  }
  return v;
}

template <typename T>
T number(std::string_view s, size_t line) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) bad(line, "bad number '" + std::string(s) + "'");
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace

SourceData parse_source(std::string_view text, uint32_t* serial) {
  SourceData src;
  size_t lineno = 0;
  bool header = false, ended = false;
  uint32_t ser = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) bad(lineno + 1, "missing newline (truncated file)");
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    ++lineno;
    if (ended) bad(lineno, "data after the end line");
    auto f = split(line, ' ');
    if (!header) {
      if (line != "timepool-dns-snapshot 1") bad(lineno, "not a timepool-dns snapshot (version 1)");
      header = true;
    } else if (f[0] == "serial" && f.size() == 2) {
      ser = number<uint32_t>(f[1], lineno);
    } else if (f[0] == "zone" && (f.size() == 6 || f.size() == 7)) {
      ZoneRow z;
      z.id = number<int64_t>(f[1], lineno);
      z.name = std::string(f[2]);
      const auto kind = parse_zone_kind(f[3]);
      if (!kind) bad(lineno, "bad zone kind");
      z.kind = *kind;
      if (f[4] != "-") z.alias_of = number<int64_t>(f[4], lineno);
      const auto client = parse_client_type(f[5]);
      if (!client) bad(lineno, "bad client type");
      z.client_type = *client;
      // The parent (7th field) came later; copies without it load with no geo fallback tree.
      if (f.size() == 7 && f[6] != "-") z.parent_id = number<int64_t>(f[6], lineno);
      src.zones.push_back(std::move(z));
    } else if (f[0] == "server" && f.size() == 5) {
      ServerRow s;
      s.id = number<int64_t>(f[1], lineno);
      if (!parse_address(f[2], s)) bad(lineno, "bad address");
      s.netspeed = number<uint32_t>(f[3], lineno);
      if (f[4] != "-") {
        for (auto z : split(f[4], ',')) s.zones.push_back(number<int64_t>(z, lineno));
      }
      src.servers.push_back(std::move(s));
    } else if (f[0] == "mixture" && f.size() == 7) {
      MixtureRow m;
      const int family = number<int>(f[1], lineno);
      if (family != 4 && family != 6) bad(lineno, "bad mixture family");
      m.v6 = family == 6;
      m.country = number<int64_t>(f[2], lineno);
      m.continent = number<int64_t>(f[3], lineno);
      m.own = share(f[4], lineno);
      m.near = share(f[5], lineno);
      m.global = share(f[6], lineno);
      src.mixtures.push_back(m);
    } else if (f[0] == "end" && (f.size() == 3 || f.size() == 4)) {
      if (number<size_t>(f[1], lineno) != src.zones.size() ||
          number<size_t>(f[2], lineno) != src.servers.size() ||
          (f.size() == 4 ? number<size_t>(f[3], lineno) : 0) != src.mixtures.size()) {
        bad(lineno, "record count does not match (truncated or edited file)");
      }
      ended = true;
    } else {
      bad(lineno, "unknown record");
    }
  }
  if (!ended) bad(lineno, "no end line (truncated file)");
  if (serial) *serial = ser;
  return src;
}

void save_source(const SourceData& src, uint32_t serial, const std::string& path) {
  const std::string text = format_source(src, serial);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(tmp + ": cannot create");
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::runtime_error(tmp + ": write failed");
    }
    off += static_cast<size_t>(n);
  }
  // The rename must never expose a file whose data is not on disk yet.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error(tmp + ": fsync failed");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw std::runtime_error(path + ": rename failed");
  }
}

SourceData load_source(const std::string& path, uint32_t* serial) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parse_source(ss.str(), serial);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace timepool::server
