// The snapshot: an immutable picture of every name the server answers below its apexes, each
// with the weighted IPv4 and IPv6 server lists it draws from.
//
// It is built by a pure function from SourceData (what the database says: zones, eligible
// servers and their zone memberships), so unit tests, the on-disk copy and the database loader
// all go through the same code. Names are relative to the apex, lower case, dotted, without
// the trailing dot: "" (the apex), "0", "europe", "2.de", "acme".
//
// Thread safety: immutable after build(); shared read-only between all worker threads through
// std::shared_ptr<const Snapshot>.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/mixtures.hpp"
#include "server/pool.hpp"
#include "server/zone.hpp"

namespace timepool::server {

struct ServerRow {
  int64_t id = 0;
  bool v6 = false;
  std::array<uint8_t, 16> addr{};  // network order; IPv4 in the first 4 bytes
  uint32_t netspeed = 0;        // weight, kbit/s; > 0
  std::vector<int64_t> zones;   // ids of the zones it belongs to (global, continent, country ...)
};

// Text form of an address ("192.0.2.1", "2001:db8::1") into a row; false if it is neither.
bool parse_address(std::string_view text, ServerRow& row);
// PostgreSQL's binary form of an inet host address (inet_send: family 2 or 3, prefix bits,
// is_cidr 0, byte count 4 or 16, the bytes) into a row; false for anything else, networks
// included.
bool parse_inet_binary(std::span<const uint8_t> wire, ServerRow& row);
std::string format_address(const ServerRow& row);

struct SourceData {
  std::vector<ZoneRow> zones;
  std::vector<ServerRow> servers;
  // The balancer's mixtures computed for these servers (server/demand.hpp). Not read by
  // Snapshot::build: they travel with the data so the on-disk copy keeps them, and a server
  // that starts without its database answers from them as before.
  std::vector<MixtureRow> mixtures;
};

// One name below the apex.
struct Node {
  static constexpr uint32_t kNoPool = 0xffffffff;
  uint32_t v4 = kNoPool;  // index into Snapshot::pools(), kNoPool: no address records
  uint32_t v6 = kNoPool;
  int8_t number = -1;     // 0..3 for the numbered labels, -1 for bare labels and other names
  bool terminal = false;  // a pool name (A/AAAA live here); false: only has children
  int32_t zone = -1;      // index into Snapshot::zones() for metrics; -1 for the apex parents
};

// A zone as published: its row and how many servers of each family answer for it.
struct ZoneInfo : ZoneRow {
  uint32_t servers_v4 = 0;
  uint32_t servers_v6 = 0;
};

// The numbered quarters of one zone and family: for each member (weights[i] = netspeed > 0,
// ids[i] = database id, all distinct) its quarter 0..3. Largest weight first into the quarter
// with the lightest total (list scheduling, LPT): the quarters are disjoint, and a quarter with
// two or more members exceeds the lightest total by at most its own smallest member's weight.
// Ties go by server id, then member count, then quarter number, so every edge that reads the
// same rows builds the same quarters, whatever the row order.
std::vector<uint8_t> split_quarters(std::span<const uint64_t> weights,
                                    std::span<const int64_t> ids);

class Snapshot {
 public:
  // Quarters are made when a zone has at least this many servers of a family; below that the
  // numbered labels answer from the bare pool.
  static constexpr size_t kSplitMin = 8;

  // Builds the snapshot; `serial` is the SOA serial to publish. Never throws on data (bad rows
  // are skipped and counted in skipped()); throws std::bad_alloc only.
  static std::shared_ptr<const Snapshot> build(const SourceData& src, uint32_t serial);

  // nullptr when the name does not exist. `rel` is lower case.
  const Node* find(std::string_view rel) const {
    auto it = nodes_.find(rel);
    return it == nodes_.end() ? nullptr : &it->second;
  }
  const Pool& pool(uint32_t i) const { return pools_[i]; }
  size_t pool_count() const { return pools_.size(); }
  const std::vector<ZoneInfo>& zones() const { return zones_; }
  uint32_t serial() const { return serial_; }
  size_t server_count() const { return server_ids_.size(); }
  // The database id of a server by its dense index (Pool::server()), 0..server_count()-1.
  int64_t server_id(uint32_t server) const { return server_ids_[server]; }
  size_t node_count() const { return nodes_.size(); }
  size_t skipped() const { return skipped_; }
  // All names, for logs and tests.
  std::vector<std::string> names() const;

 private:
  friend class SnapshotBuilder;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Node, Hash, std::equal_to<>> nodes_;
  std::vector<Pool> pools_;
  std::vector<ZoneInfo> zones_;
  uint32_t serial_ = 0;
  std::vector<int64_t> server_ids_;  // by dense index, in id order
  size_t skipped_ = 0;
};

// The on-disk copy: SourceData as text, one record a line, ending in a line with the record
// counts (zones, servers, mixtures) so a truncated file is refused; a copy written before the
// mixtures were kept ends with two counts and loads without mixtures. Mixture shares are
// written with 17 significant digits and read back bit for bit. save() writes a temporary file, fsyncs and renames it
// over `path`. Both throw std::runtime_error with the path and the reason.
void save_source(const SourceData& src, uint32_t serial, const std::string& path);
SourceData load_source(const std::string& path, uint32_t* serial);
// The text form itself (for tests and fuzzing); parse throws std::runtime_error.
std::string format_source(const SourceData& src, uint32_t serial);
SourceData parse_source(std::string_view text, uint32_t* serial);

}  // namespace timepool::server
