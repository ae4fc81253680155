// The balancer's published result as timepool-dns uses it: for each address family and client
// origin (a country zone and its continent zone, or a continent zone alone for an explicit
// continent name, or neither for clients that could not be located) the shares of answers its
// country, continent and global tiers give (server/balancer.hpp).
//
// An origin without a row answers by the plain geo rule (server/zone_fallback), so an edge
// whose database has no mixtures yet answers as it always did.
//
// Immutable after construction; shared read-only by the workers through Published.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

namespace timepool::server {

struct MixtureRow {
  bool v6 = false;
  int64_t country = 0;    // zone id; 0: none
  int64_t continent = 0;  // zone id; 0: none
  double own = 0, near = 0, global = 0;  // >= 0; need not add up to 1 (they are weights)
};

class Mixtures {
 public:
  Mixtures() = default;
  // Rows with negative or non-finite weights, or all weights 0, are skipped; for a repeated
  // origin the last row counts.
  explicit Mixtures(const std::vector<MixtureRow>& rows);

  // nullptr when the origin has no row.
  const MixtureRow* find(bool v6, int64_t country, int64_t continent) const;
  // Every row kept, in (family, country, continent) order: what the on-disk copy stores.
  std::vector<MixtureRow> rows() const;
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }

 private:
  std::map<std::tuple<bool, int64_t, int64_t>, MixtureRow> rows_;
};

}  // namespace timepool::server
