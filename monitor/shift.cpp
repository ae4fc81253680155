#include "monitor/shift.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace timepool::monitor {

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

std::vector<MonitorShift> find_shifts(std::vector<PairOffset> pairs, const ShiftSettings& s) {
  std::sort(pairs.begin(), pairs.end(), [](const PairOffset& a, const PairOffset& b) {
    return a.server_id != b.server_id ? a.server_id < b.server_id : a.monitor_id < b.monitor_id;
  });
  std::map<int, std::vector<double>> diffs;  // by monitor
  std::vector<double> others;
  for (std::size_t i = 0; i < pairs.size();) {
    std::size_t j = i;
    while (j < pairs.size() && pairs[j].server_id == pairs[i].server_id) ++j;
    if (j - i >= 3) {
      for (std::size_t k = i; k < j; ++k) {
        if (!std::isfinite(pairs[k].offset_s)) continue;
        others.clear();
        for (std::size_t o = i; o < j; ++o) {
          if (o != k && std::isfinite(pairs[o].offset_s)) others.push_back(pairs[o].offset_s);
        }
        if (others.size() < 2) continue;
        diffs[pairs[k].monitor_id].push_back(pairs[k].offset_s - median(others));
      }
    }
    i = j;
  }
  std::vector<MonitorShift> out;
  out.reserve(diffs.size());
  for (auto& [id, d] : diffs) {
    MonitorShift m;
    m.monitor_id = id;
    m.servers = static_cast<int>(d.size());
    m.shift_s = median(std::move(d));
    m.shifted = m.servers >= s.min_servers && std::fabs(m.shift_s) > s.threshold_s;
    out.push_back(m);
  }
  return out;
}

}  // namespace timepool::monitor
