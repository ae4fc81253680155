#include "core/log.hpp"

#include <mutex>
#include <unordered_map>
#include <vector>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace timepool::log {
namespace {

// One line per event: UTC time, level, component, message.
constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%eZ %l %n: %v";

// The sinks and level every component logger shares. setup() replaces them; get() hands out
// loggers that use them. Guarded by the mutex so get() may be called from any thread.
struct State {
  std::mutex mu;
  std::vector<spdlog::sink_ptr> sinks;
  spdlog::level::level_enum level = spdlog::level::info;
  std::unordered_map<std::string, std::shared_ptr<spdlog::logger>> loggers;
};

State& state() {
  static State s;
  return s;
}

std::unique_ptr<spdlog::formatter> formatter() {
  return std::make_unique<spdlog::pattern_formatter>(kPattern, spdlog::pattern_time_type::utc);
}

std::vector<spdlog::sink_ptr> default_sinks() {
  auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  err->set_formatter(formatter());
  return {err};
}

spdlog::level::level_enum parse_level(const std::string& name) {
  static const std::pair<const char*, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [n, l] : kLevels) {
    if (name == n) return l;
  }
  throw config::Error("log.level: \"" + name + "\" is not one of trace, debug, info, warn, "
                      "error, off");
}

}  // namespace

void setup(const config::LogConfig& cfg) {
  auto level = parse_level(cfg.level);
  std::vector<spdlog::sink_ptr> sinks = default_sinks();
  if (!cfg.file.empty()) {
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(cfg.file, false);
      file->set_formatter(formatter());
      sinks.push_back(std::move(file));
    } catch (const spdlog::spdlog_ex& e) {
      throw config::Error("log.file: cannot open " + cfg.file + ": " + e.what());
    }
  }
  auto& s = state();
  std::lock_guard lock(s.mu);
  s.sinks = std::move(sinks);
  s.level = level;
  for (auto& [name, logger] : s.loggers) {
    logger->sinks() = s.sinks;
    logger->set_level(level);
    logger->flush_on(spdlog::level::trace);
  }
}

std::shared_ptr<spdlog::logger> get(std::string_view component) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  std::string name(component);
  if (auto it = s.loggers.find(name); it != s.loggers.end()) return it->second;
  if (s.sinks.empty()) s.sinks = default_sinks();
  auto logger = std::make_shared<spdlog::logger>(name, s.sinks.begin(), s.sinks.end());
  logger->set_level(s.level);
  logger->flush_on(spdlog::level::trace);
  s.loggers.emplace(name, logger);
  return logger;
}

}  // namespace timepool::log
