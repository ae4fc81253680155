// The configuration path of every program on any text: config::Document::parse(), then each
// program's own readers in the order its main() calls them, then check_unknown() with its
// sections. Every failure must be a config::Error with a message; any other exception or a
// crash is a bug.
//
// Input: the TOML file text, optionally followed by a NUL and NUL-separated extra entries:
// "TIMEPOOL_..." entries become environment variables, anything else a --set override.
// With FUZZ_VERBOSE set, each program's verdict is printed (to see what a seed reaches).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "monitor/api/settings.hpp"
#include "monitor/settings.hpp"
#include "server/dns_config.hpp"
#include "web/config.hpp"

using namespace timepool;

namespace {

struct Input {
  std::string_view toml;
  std::vector<std::string> overrides;
  std::vector<std::string> env;
  std::vector<const char*> envp;
};

Input split(std::string_view all) {
  Input in;
  const size_t nul = all.find('\0');
  in.toml = all.substr(0, nul);
  if (nul != std::string_view::npos) {
    std::string_view rest = all.substr(nul + 1);
    while (!rest.empty()) {
      const size_t end = rest.find('\0');
      std::string item(rest.substr(0, end));
      if (item.rfind("TIMEPOOL_", 0) == 0) in.env.push_back(std::move(item));
      else in.overrides.push_back(std::move(item));
      if (end == std::string_view::npos) break;
      rest.remove_prefix(end + 1);
    }
  }
  for (const auto& e : in.env) in.envp.push_back(e.c_str());
  in.envp.push_back(nullptr);
  return in;
}

// One program's startup: parse, its readers, check_unknown(). Only config::Error may escape.
void run_program(const Input& in, const char* program,
                 const std::function<void(const config::Document&)>& read,
                 const std::vector<std::string>& known) {
  try {
    const auto doc = config::Document::parse(in.toml, "fuzz.toml", in.overrides, in.envp.data());
    read(doc);
    doc.check_unknown(known);
    if (std::getenv("FUZZ_VERBOSE")) std::fprintf(stderr, "%s: accepted\n", program);
  } catch (const config::Error& e) {
    if (std::getenv("FUZZ_VERBOSE")) std::fprintf(stderr, "%s: %s\n", program, e.what());
    if (std::string_view(e.what()).empty()) {
      std::fprintf(stderr, "%s: config::Error without a message\n", program);
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: not a config::Error: %s\n", program, e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "%s: unknown exception\n", program);
    std::abort();
  }
}

// monitor.key_file names a file the monitor reads; a device or FIFO there (/dev/zero,
// /dev/stdin) would only test the operating system, so such inputs skip the monitor.
bool monitor_reads_special_file(const Input& in) {
  try {
    const auto doc = config::Document::parse(in.toml, "fuzz.toml", in.overrides, in.envp.data());
    const auto* v = doc.find("monitor", "key_file");
    if (!v || v->text.empty()) return false;
    std::error_code ec;
    const auto st = std::filesystem::status(v->text, ec);
    return !ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st);
  } catch (const config::Error&) {
    return false;  // run_program() sees the same error
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Input in = split(std::string_view(reinterpret_cast<const char*>(data), size));

  // timepool-dns (server/main.cpp).
  run_program(in, "dns", [](const config::Document& doc) {
    (void)config::read_database(doc);
    (void)config::read_log(doc);
    (void)server::read_dns_config(doc);
  }, {"database", "log", "dns"});

  // timepool-monitor (monitor/main.cpp), as the daemon and as `check` (no key needed).
  if (!monitor_reads_special_file(in)) {
    for (bool need_key : {true, false}) {
      run_program(in, "monitor", [need_key](const config::Document& doc) {
        (void)monitor::read_settings(doc, need_key);
        (void)config::read_log(doc);
      }, {"monitor", "log"});
    }
  }

  // timepool-monitor-api (monitor/api/main.cpp).
  run_program(in, "monitor-api", [](const config::Document& doc) {
    (void)monitor::api::read_api_settings(doc);
    (void)config::read_database(doc);
    (void)config::read_log(doc);
  }, {"monitor_api", "database", "log"});

  // timepool-web (web/main.cpp).
  run_program(in, "web", [](const config::Document& doc) {
    (void)config::read_log(doc);
    (void)config::read_database(doc);
    (void)web::read_web_config(doc);
  }, {"database", "log", "web"});

  // timepoolctl (ctl/main.cpp).
  run_program(in, "ctl", [](const config::Document& doc) {
    (void)config::read_database(doc);
    (void)config::read_log(doc);
  }, {"database", "log"});
  return 0;
}
