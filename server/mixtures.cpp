#include "server/mixtures.hpp"

#include <cmath>

namespace timepool::server {

namespace {
bool usable(double w) { return std::isfinite(w) && w >= 0; }
}  // namespace

Mixtures::Mixtures(const std::vector<MixtureRow>& rows) {
  for (const auto& r : rows) {
    if (!usable(r.own) || !usable(r.near) || !usable(r.global)) continue;
    if (r.own + r.near + r.global <= 0) continue;
    rows_[{r.v6, r.country, r.continent}] = r;
  }
}

std::vector<MixtureRow> Mixtures::rows() const {
  std::vector<MixtureRow> out;
  out.reserve(rows_.size());
  for (const auto& [key, row] : rows_) out.push_back(row);
  return out;
}

const MixtureRow* Mixtures::find(bool v6, int64_t country, int64_t continent) const {
  auto it = rows_.find({v6, country, continent});
  return it == rows_.end() ? nullptr : &it->second;
}

}  // namespace timepool::server
