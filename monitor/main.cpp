// timepool-monitor: probes the volunteer NTP servers the monitor API assigns it and submits the
// raw results to that API (no database, no scores here); or, with `check ADDRESS`, probes one
// server once and prints what it saw.
#include <exception>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/service.hpp"
#include "core/signals.hpp"
#include "core/version.hpp"
#include "monitor/daemon.hpp"
#include "monitor/probe_once.hpp"
#include "monitor/settings.hpp"

namespace {

using namespace timepool;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitConfig = 4;

constexpr const char* kFooter = R"(Configuration: the [monitor] and [log] sections of the shared TOML file (-c),
overridden by environment variables TIMEPOOL_<SECTION>_<KEY> (for example
TIMEPOOL_MONITOR_KEY), overridden by --set section.key=value. The monitor
needs the monitor API's address (monitor.url, https://), the CA file that
signed its certificate (monitor.ca_file) and its key (monitor.key or
monitor.key_file) from `timepoolctl monitor add NAME`; it refuses to run
with a key the API does not know. Results wait in monitor.spool_dir until
the API has them. Metrics: http://monitor.metrics_listen/metrics.
SIGHUP re-reads the configuration: trust_local_clock, max_clock_error_us,
max_in_flight, batch_max and batch_interval_ms take effect at once; the
other keys need a restart.

check ADDRESS probes one server (IPv4, IPv6 or a name) with the monitor's
own code and prints offset, round trip, stratum, leap and refid, or the
error; exit status 0 when the server gave a good time sample, 1 otherwise.

Exit status: 0 done, 1 refused or failed, 2 bad command line, 4 bad
configuration.)";

// The daemon: the probe loop runs on a thread of its own while this thread waits for signals
// (SIGTERM/SIGINT stop, SIGHUP reloads the configuration).
int run_daemon(const monitor::Settings& settings, const config::CliSources& sources,
               signals::SignalSet& signals) {
  auto log = log::get("monitor");
  monitor::Daemon daemon(settings);
  daemon.start();
  std::exception_ptr failed;
  std::thread loop([&] {
    try {
      daemon.run();
    } catch (...) {
      failed = std::current_exception();
    }
    signals.wake();
  });
  service::notify_ready();  // spool open, sockets open: systemd (Type=notify) may proceed
  while (auto ev = signals.wait()) {
    if (ev->kind == signals::Kind::kStop) {
      log->info("stopping ({})", ev->name);
      break;
    }
    service::notify_reloading();
    try {
      auto doc = config::Document::load(sources.path, sources.sets);
      daemon.reload(monitor::read_settings(doc, true));
    } catch (const config::Error& e) {
      log->error("reload failed, keeping the running configuration: {}", e.what());
    }
    service::notify_ready();
  }
  service::notify_stopping();
  daemon.stop();
  loop.join();
  if (failed) std::rethrow_exception(failed);
  log->info("stopped");
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "timepool-monitor: probe the servers the monitor API assigns with NTP client packets and "
      "submit what each probe saw to the API, which scores them.",
      "timepool-monitor"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string(version()));
  app.fallthrough();
  config::CliSources sources;
  config::add_cli_options(app, sources);
  auto* check = app.add_subcommand("check", "Probe one server once and print what it saw.");
  std::string check_host;
  int check_port = 123;
  check->add_option("ADDRESS", check_host, "Server address or name")->required();
  check->add_option("--port", check_port, "UDP port")->capture_default_str()->check(CLI::Range(1, 65535));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  const bool check_mode = check->parsed();
  monitor::Settings settings;
  try {
    auto doc = config::Document::load(sources.path, sources.sets);
    settings = monitor::read_settings(doc, !check_mode);
    auto log_cfg = config::read_log(doc);
    doc.check_unknown({"monitor", "log"});
    if (sources.list_keys) {
      config::print_keys(doc, std::cout);
      return kExitOk;
    }
    log::setup(log_cfg);
  } catch (const config::Error& e) {
    std::cerr << "timepool-monitor: configuration: " << e.what() << "\n";
    return kExitConfig;
  }

  if (check_mode) {
    const auto r = monitor::probe_once(check_host, static_cast<uint16_t>(check_port), settings.probe);
    std::cout << check_host << ": " << monitor::describe(r) << "\n";
    return r.ok() ? kExitOk : kExitFailed;
  }

  auto log = log::get("monitor");
  try {
    signals::SignalSet signals;  // before the daemon starts any thread
    return run_daemon(settings, sources, signals);
  } catch (const monitor::AuthError& e) {
    log->error("refusing to run: {}", e.what());
    return kExitFailed;
  } catch (const monitor::SpoolError& e) {
    log->error("{}", e.what());
    return kExitFailed;
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    return kExitFailed;
  }
}
