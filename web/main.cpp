// timepool-web: the pool's web site and JSON API for volunteers, vendors and admins.
#include <cstdio>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/metrics_http.hpp"
#include "core/service.hpp"
#include "core/signals.hpp"
#include "core/version.hpp"
#include "web/app.hpp"
#include "web/check_queue.hpp"
#include "web/findings_job.hpp"
#include "web/mail_sender.hpp"
#include "web/monitoring_job.hpp"
#include "web/outbox_gauge.hpp"
#include "web/routes.hpp"
#include "server/dns_config.hpp"

using namespace timepool;

namespace {

// Reads the config into `app` and `conninfo`. An exit code when the program must stop here
// (an error, or --config-keys printed).
std::optional<int> load_config(const std::string& path, const std::vector<std::string>& overrides,
                               bool list_keys, web::App& app, std::string& conninfo) {
  try {
    auto doc = config::Document::load(path, overrides);
    log::setup(config::read_log(doc));
    conninfo = config::read_database(doc).conninfo;
    app.cfg = web::read_web_config(doc);
    app.mail = web::read_mail_config(doc);
    doc.check_unknown({"database", "log", "web", "mail"});
    if (list_keys) {
      for (const auto& k : doc.keys_read()) std::printf("%s\n", k.c_str());
      return 0;
    }
    if (!app.cfg.geoip_db.empty()) {
      // "tor-geoipdb": Debian's country range files; anything else: a MaxMind DB file.
      app.geo = geo::open_geo_db(app.cfg.geoip_db == "tor-geoipdb" ? "" : app.cfg.geoip_db);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "timepool-web: %s\n", e.what());
    return 2;
  }
  return std::nullopt;
}

// Counted for /metrics: checks in flight tell an operator when probes pile up.
void set_up_checks(web::App& app, web::WebMetrics& metrics) {
  app.metrics = &metrics;
  app.probe = [&metrics](const address::Address& a, uint16_t port) {
    web::WebMetrics::CheckGuard guard(metrics);
    return web::real_probe(a, port);
  };
  // After the probe: the checks go through the counting wrapper too.
  app.checks = std::make_shared<web::CheckQueue>(
      app.probe, static_cast<uint16_t>(app.cfg.probe_port), app.cfg.check_threads,
      app.cfg.checks_per_address, app.cfg.checks_max);
}

bool start_metrics(prometheus::HttpServer& http, const std::string& listen) {
  auto logger = log::get("web");
  try {
    auto ep = server::parse_listen(listen, "web.metrics_listen");
    uint16_t mport = http.start(ep);
    logger->info("metrics on http://{}/metrics", net::Endpoint(ep.address(), mport).to_string());
    std::printf("metrics on http://%s/metrics\n",
                net::Endpoint(ep.address(), mport).to_string().c_str());
    return true;
  } catch (const std::exception& e) {
    logger->critical("web.metrics_listen: {}", e.what());
    return false;
  }
}

void log_mail_settings(const web::MailConfig& mail) {
  auto logger = log::get("web");
  if (mail.transport == "off") {
    logger->warn("mail.transport is off: mail stays in the outbox and is not sent");
  } else if (mail.transport == "directory") {
    logger->info("mail: written into {} instead of sent", mail.directory);
  } else {
    logger->info("mail: relay {}:{} (tls {})", mail.host, mail.port, mail.tls);
  }
  if (!mail.verify_email) {
    logger->warn("mail.verify_email is off: new accounts count as verified at once");
  }
}

// Serves until SIGTERM or SIGINT (SIGHUP only logs); true when serving ended cleanly.
bool serve_until_signal(web::HttpServer& server, signals::SignalSet& signals) {
  auto logger = log::get("web");
  std::thread stopper([&] {
    while (auto ev = signals.wait()) {
      if (ev->kind == signals::Kind::kReload) {
        logger->info("SIGHUP: nothing is reloaded; restart to change the configuration");
        continue;
      }
      logger->info("signal {}: stopping", ev->signo);
      service::notify_stopping();
      server.stop();
      return;
    }
  });
  service::notify_ready();
  bool ok = server.serve();
  signals.wake();  // serve() may have returned on its own (error): let the thread end
  stopper.join();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{
      "timepool-web: the pool's web site (volunteers add servers, vendors request zones, admins "
      "decide) and its JSON API. Reads [web], [database] and [log] from the config file."};
  std::string config_path;
  std::vector<std::string> overrides;
  cli.add_option("-c,--config", config_path, "TOML configuration file");
  cli.add_option("--set", overrides, "Override a setting: section.key=value (repeatable)");
  bool list_keys = false;
  cli.add_flag("--config-keys", list_keys,
               "Print the configuration keys this program reads (section.key, one a line) and exit");
  bool list_routes = false;
  cli.add_flag("--routes", list_routes, "Print the route table (METHOD PATTERN per line) and exit");
  cli.set_version_flag("--version", std::string(version()));
  CLI11_PARSE(cli, argc, argv);
  if (list_routes) {
    for (const auto& r : web::route_table()) std::printf("%s %s\n", r.method.c_str(), r.pattern.c_str());
    return 0;
  }

  // Signals are taken by a thread of their own (core/signals.hpp): set up before any thread;
  // so is libcurl (the mail sender).
  signals::SignalSet signals;
  curl_global_init(CURL_GLOBAL_DEFAULT);

  web::App app;
  std::string conninfo;
  if (auto exit_code = load_config(config_path, overrides, list_keys, app, conninfo)) {
    return *exit_code;
  }
  web::WebMetrics metrics;
  set_up_checks(app, metrics);
  auto logger = log::get("web");
  if (app.cfg.allow_loopback) logger->warn("web.allow_loopback is on: loopback servers are accepted");
  if (app.geo) logger->info("geoip: {}", app.geo->description());

  web::DbPool pool(conninfo, app.cfg.db_connections);
  // Findings are computed here, in the background, on a connection of their own (see
  // web/findings_job.hpp for why the web app runs this job).
  web::FindingsJob findings(conninfo, app.cfg.findings);
  if (app.cfg.findings_job) findings.start();
  // The monitor selector and the freshness and outage check (web/monitoring_job.hpp).
  web::MonitoringJob monitoring(conninfo, app.cfg.monitoring_upkeep_seconds);
  if (app.cfg.monitoring_upkeep_seconds > 0) monitoring.start();
  // The mail queue for /metrics, counted on a connection of its own (web/outbox_gauge.hpp).
  web::OutboxGauge outbox(conninfo);
  if (!app.cfg.metrics_listen.empty()) outbox.start();
  prometheus::HttpServer metrics_http(
      [&metrics, &pool, &outbox] { return metrics.render(&pool) + outbox.render(); });
  if (!app.cfg.metrics_listen.empty() && !start_metrics(metrics_http, app.cfg.metrics_listen)) {
    return 1;
  }
  // Mail from the outbox (web/mail_sender.hpp), woken by requests that queue some.
  log_mail_settings(app.mail);
  web::MailSender mail_sender(conninfo, app.mail);
  mail_sender.start();
  app.wake_mail = [&mail_sender] { mail_sender.wake(); };
  web::HttpServer server(app, pool);
  int port = server.bind(app.cfg.listen, app.cfg.port);
  if (port < 0) {
    logger->critical("cannot listen on {}:{}", app.cfg.listen, app.cfg.port);
    return 1;
  }
  logger->info("listening on {}:{}", app.cfg.listen, port);
  std::printf("listening on %s:%d\n", app.cfg.listen.c_str(), port);
  std::fflush(stdout);
  bool ok = serve_until_signal(server, signals);
  app.checks.reset();  // its threads may be probing through `metrics`: end them first
  return ok ? 0 : 1;
}
