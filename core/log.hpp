// Logging: spdlog, one logger per component, one line per event, to stderr and optionally a
// file. Per-packet events are debug level or rate-limited by the caller.
//
// Call setup() once in main() before starting threads; get() is then safe from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "core/config.hpp"

namespace timepool::log {

// Configures the sinks and level for every logger made by get(). Throws config::Error for an
// unknown level or a file that cannot be opened.
void setup(const config::LogConfig& cfg);

// The logger of one component ("dns", "monitor", "web", "ctl", "pg" ...), created on first use
// with the sinks from setup() (stderr only if setup() was not called).
std::shared_ptr<spdlog::logger> get(std::string_view component);

}  // namespace timepool::log
