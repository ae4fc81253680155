// timepool-monitor-api: the central monitor API. Monitors at any site fetch their assignment
// here and submit raw probe results; the scores are computed here and written to PostgreSQL
// (as the timepool_monitor role). Monitors never hold database credentials.
#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <sodium.h>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/service.hpp"
#include "core/signals.hpp"
#include "core/version.hpp"
#include "monitor/api/server.hpp"
#include "monitor/api/settings.hpp"

namespace {

using namespace timepool;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitConfig = 4;

constexpr const char* kFooter = R"(Configuration: the [monitor_api], [database] and [log] sections of the shared
TOML file (-c), overridden by environment variables TIMEPOOL_<SECTION>_<KEY>
(for example TIMEPOOL_MONITOR_API_LISTEN), overridden by --set section.key=value.
HTTPS needs monitor_api.tls_cert and tls_key; plain HTTP only with
monitor_api.plain_http = true. Monitors authenticate with the key that
`timepoolctl monitor add NAME` printed. Metrics:
http://monitor_api.metrics_listen/metrics (Prometheus).

Exit status: 0 done, 1 failed, 2 bad command line, 4 bad configuration.)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "timepool-monitor-api: hand each monitor its assignment, accept its raw probe results, "
      "compute the scores centrally and write them to PostgreSQL.",
      "timepool-monitor-api"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string(version()));
  config::CliSources sources;
  config::add_cli_options(app, sources);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }

  monitor::api::ApiSettings settings;
  config::DatabaseConfig db;
  try {
    auto doc = config::Document::load(sources.path, sources.sets);
    settings = monitor::api::read_api_settings(doc);
    db = config::read_database(doc);
    auto log_cfg = config::read_log(doc);
    doc.check_unknown({"monitor_api", "database", "log"});
    if (sources.list_keys) {
      config::print_keys(doc, std::cout);
      return kExitOk;
    }
    log::setup(log_cfg);
  } catch (const config::Error& e) {
    std::cerr << "timepool-monitor-api: configuration: " << e.what() << "\n";
    return kExitConfig;
  }

  auto log = log::get("monitor-api");
  try {
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialization failed");
    signals::SignalSet signals;  // before any thread starts
    monitor::api::ApiServer api(settings, db.conninfo);
    api.start();
    service::notify_ready();
    while (auto ev = signals.wait()) {
      if (ev->kind == signals::Kind::kStop) {
        log->info("stopping ({})", ev->name);
        break;
      }
      log->info("{}: nothing to reload; restart to apply configuration changes", ev->name);
    }
    service::notify_stopping();
    api.stop();
    log->info("stopped");
    return kExitOk;
  } catch (const std::exception& e) {
    log->error("{}", e.what());
    return kExitFailed;
  }
}
