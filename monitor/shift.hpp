// Monitors whose results are systematically shifted from the others' (pure; the monitor API
// runs it on the probe log every few minutes).
//
// For each server that at least three monitors measured in the window, each monitor's median
// offset is compared with the median of the other monitors' medians; a monitor's shift is the
// median of those differences over the servers it shares with others. A monitor whose clock
// is wrong by d shows a shift of about -d on every server, whatever the servers' own clocks
// (a server that is itself off moves every monitor's offset alike). A monitor is shifted when
// it has at least `min_servers` such servers and the absolute shift is above `threshold_s`.
#pragma once

#include <cstdint>
#include <vector>

namespace timepool::monitor {

struct PairOffset {
  int monitor_id = 0;
  int64_t server_id = 0;
  double offset_s = 0;  // this monitor's median offset of this server in the window
};

struct ShiftSettings {
  double threshold_s = 0.025;
  int min_servers = 3;
};

struct MonitorShift {
  int monitor_id = 0;
  double shift_s = 0;  // median of (own offset - the others' median) over its servers
  int servers = 0;     // servers compared
  bool shifted = false;
};

// One entry per monitor that shares at least one server with two or more others, by id.
std::vector<MonitorShift> find_shifts(std::vector<PairOffset> pairs, const ShiftSettings& s);

}  // namespace timepool::monitor
