#include "monitor/store.hpp"

#include <fmt/format.h>

#include <ctime>

namespace timepool::monitor {

std::string timestamp_text(ntp::TimePoint t) {
  const int64_t ns = t.time_since_epoch().count();
  int64_t sec = ns / 1000000000;
  int64_t us = (ns % 1000000000) / 1000;
  if (us < 0) {
    us += 1000000;
    --sec;
  }
  const std::time_t tt = static_cast<std::time_t>(sec);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

}  // namespace timepool::monitor
