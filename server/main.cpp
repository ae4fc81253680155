// timepool-dns: the authoritative DNS server of the pool.
//
// Startup: read the config, bind every socket (as root, port 53 works), drop privileges if
// configured, load the first snapshot (database, else the disk copy), start the workers.
// Signals are events for the main thread (core/signals): SIGHUP re-reads the answer, geo and
// balancer settings and rebuilds the snapshot; SIGTERM/SIGINT stop cleanly.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "core/log.hpp"
#include "core/service.hpp"
#include "core/signals.hpp"
#include "core/version.hpp"
#include "server/dns_config.hpp"
#include "server/geo_config.hpp"
#include "server/io/runtime.hpp"
#include "server/io/tcp.hpp"
#include "server/io/udp.hpp"
#include "server/loader.hpp"
#include "server/metrics.hpp"

namespace {

using namespace timepool;
using namespace timepool::server;

struct Loaded {
  config::DatabaseConfig db;
  config::LogConfig log;
  DnsConfig dns;
  GeoSettings geo;
  StatsSettings stats;
  BalancerSettings balancer;
};

// `print_keys`: print every key read (--config-keys).
Loaded load_config(const std::string& path, const std::vector<std::string>& sets,
                   bool print_keys = false) {
  auto doc = config::Document::load(path, sets);
  Loaded l{config::read_database(doc), config::read_log(doc), read_dns_config(doc), {}, {}, {}};
  l.geo = read_geo_settings(doc);
  l.stats = read_stats_settings(doc, l.db.conninfo);
  l.balancer = read_balancer_settings(doc);
  doc.check_unknown({"database", "log", "dns"});
  if (print_keys) {
    for (const auto& k : doc.keys_read()) std::printf("%s\n", k.c_str());
  }
  return l;
}

void drop_privileges(const std::string& user) {
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("dns.user: no such user '" + user + "'");
  if (::setgroups(0, nullptr) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
    throw std::runtime_error("dns.user: cannot switch to '" + user + "' (not root?)");
  }
  if (::setuid(0) == 0) throw std::runtime_error("dns.user: privileges could be regained");
}

struct Sock {
  net::UniqueFd fd;
  bool tcp;
};

// Geo: a configured .mmdb that cannot be opened is a start-up error (the operator asked for
// it); when the built-in tor-geoipdb ranges are missing we serve without locating clients.
// Returns false when the server must not start.
bool open_geo(const GeoSettings& geo, std::shared_ptr<const geo::GeoDb>& db) {
  auto logger = log::get("dns");
  if (!geo.enabled) {
    logger->info("geo: off (dns.geo = false)");
    return true;
  }
  try {
    db = load_geo_db(geo.mmdb_path);
  } catch (const std::exception& e) {
    if (!geo.mmdb_path.empty()) {
      logger->critical("cannot start: dns.geo_mmdb: {}", e.what());
      return false;
    }
    logger->error("geo: {}; answering without client locations (global zone)", e.what());
  }
  return true;
}

// The UDP sockets (one per worker, SO_REUSEPORT) and the TCP socket of one listen address.
// The first UDP socket picks the port when 0 is asked for; the rest share it. With an
// ephemeral port the TCP side may already be taken: then try another port.
std::vector<Sock> bind_listen(const net::Endpoint& l, int udp_threads) {
  for (int attempt = 0;; ++attempt) {
    std::vector<Sock> these;
    try {
      these.push_back({io::bind_udp(l, true), false});
      const auto bound = net::Endpoint::local_of(these.front().fd.get());
      const net::Endpoint at(l.address(), bound ? bound->port() : l.port());
      for (int i = 1; i < udp_threads; ++i) these.push_back({io::bind_udp(at, true), false});
      these.push_back({io::bind_tcp(at), true});
      log::get("dns")->info("listening on {} (udp x{}, tcp)", at.to_string(), udp_threads);
      return these;
    } catch (const std::exception&) {
      if (l.port() != 0 || attempt >= 20) throw;
    }
  }
}

// Binds every socket, starts /metrics and drops privileges. Throws std::runtime_error; the
// sockets already bound are closed then.
std::vector<Sock> open_sockets(const Loaded& cfg, Metrics& metrics, Publisher& publisher) {
  std::vector<Sock> socks;
  auto logger = log::get("dns");
  for (const auto& l : cfg.dns.listen) {
    for (auto& s : bind_listen(l, cfg.dns.udp_threads)) socks.push_back(std::move(s));
  }
  if (!cfg.dns.metrics_listen.empty()) {
    const auto m = parse_listen(cfg.dns.metrics_listen, "dns.metrics_listen");
    const uint16_t port = metrics.start(m, [&publisher] { return publisher.load()->snapshot; });
    logger->info("metrics on http://{}/metrics", net::Endpoint(m.address(), port).to_string());
  }
  if (!cfg.dns.user.empty()) {
    drop_privileges(cfg.dns.user);
    logger->info("running as user {}", cfg.dns.user);
  }
  return socks;
}

LoaderConfig loader_config(const Loaded& c) {
  LoaderConfig lc{c.db.conninfo, c.dns.snapshot_file,
                  std::chrono::milliseconds(c.dns.rebuild_interval_s * 1000),
                  std::chrono::milliseconds(c.dns.notify_debounce_ms),
                  std::chrono::milliseconds(c.dns.standby_poll_ms), c.balancer};
  // Without geo there is no client location to mix by: no balancer either.
  lc.balancer.enabled = lc.balancer.enabled && c.geo.enabled;
  return lc;
}

// The running server: what SIGHUP reconfigures.
struct Server {
  io::Runtime& rt;
  Metrics& metrics;
  Publisher& publisher;
  std::unique_ptr<Loader> loader;
  std::shared_ptr<const geo::GeoDb> geo_db;
};

// SIGHUP: re-reads the configuration. Sockets, threads and the user stay as they are; what
// the answers depend on changes. Throws when the new configuration is invalid (nothing
// changed then).
void reload(const std::string& path, const std::vector<std::string>& sets, Loaded& cfg,
            Server& srv) {
  auto logger = log::get("dns");
  Loaded fresh = load_config(path, sets);
  bool same_listen = fresh.dns.listen.size() == cfg.dns.listen.size();
  for (size_t i = 0; same_listen && i < fresh.dns.listen.size(); ++i) {
    same_listen = fresh.dns.listen[i] == cfg.dns.listen[i];
  }
  if (!same_listen || fresh.dns.udp_threads != cfg.dns.udp_threads ||
      fresh.dns.metrics_listen != cfg.dns.metrics_listen || fresh.dns.user != cfg.dns.user) {
    logger->warn("listen, udp_threads, metrics_listen and user change only on restart");
  }
  srv.rt.answer_cfg.store(std::make_shared<const AnswerConfig>(fresh.dns.answer));
  srv.rt.tcp_idle_timeout_ms.store(fresh.dns.tcp_idle_timeout_ms, std::memory_order_relaxed);
  srv.rt.tcp_message_timeout_ms.store(fresh.dns.tcp_message_timeout_ms, std::memory_order_relaxed);
  if (fresh.db.conninfo != cfg.db.conninfo || fresh.dns.snapshot_file != cfg.dns.snapshot_file ||
      fresh.dns.rebuild_interval_s != cfg.dns.rebuild_interval_s ||
      fresh.dns.notify_debounce_ms != cfg.dns.notify_debounce_ms ||
      fresh.dns.standby_poll_ms != cfg.dns.standby_poll_ms) {
    srv.loader->stop();
    srv.loader = std::make_unique<Loader>(loader_config(fresh), srv.publisher, srv.metrics.loader());
    srv.loader->start();
  } else {
    // The balancer's settings (atomics in the loader) change at once; the rebuild this asks
    // for reads the demand again and publishes the new mixtures.
    srv.loader->set_balancer(loader_config(fresh).balancer);
  }
  if (fresh.geo.enabled && (!cfg.geo.enabled || fresh.geo.mmdb_path != cfg.geo.mmdb_path)) {
    try {
      srv.geo_db = load_geo_db(fresh.geo.mmdb_path);
    } catch (const std::exception& e) {
      logger->error("geo: {}; keeping the previous geo database", e.what());
      fresh.geo.mmdb_path = cfg.geo.mmdb_path;
    }
  }
  srv.publisher.configure_geo(fresh.geo.enabled ? srv.geo_db : nullptr, fresh.geo);
  if (fresh.stats.instance != cfg.stats.instance ||
      fresh.stats.flush_interval != cfg.stats.flush_interval || fresh.stats.enabled != cfg.stats.enabled ||
      fresh.stats.conninfo != cfg.stats.conninfo || fresh.stats.spool_dir != cfg.stats.spool_dir) {
    logger->warn("stats, stats_instance, stats_flush_interval, stats_conninfo and stats_spool "
                 "change only on restart");
  }
  cfg = std::move(fresh);
  logger->info("reloaded the configuration (SIGHUP); rebuilding the snapshot");
}

// Takes the blocked signals until SIGTERM or SIGINT; SIGHUP reloads.
void wait_for_stop(signals::SignalSet& signals, const std::string& path,
                   const std::vector<std::string>& sets, Loaded& cfg, Server& srv) {
  auto logger = log::get("dns");
  while (true) {
    const auto ev = signals.wait();
    if (!ev) continue;
    if (ev->kind == signals::Kind::kStop) {
      logger->info("stopping (signal {}, {})", ev->signo, ev->name);
      service::notify_stopping();
      return;
    }
    service::notify_reloading();
    try {
      reload(path, sets, cfg, srv);
    } catch (const std::exception& e) {
      logger->error("reload failed, keeping the old configuration: {}", e.what());
    }
    service::notify_ready();
  }
}

void log_serving(const DnsConfig& dns) {
  std::string apexes;
  for (const auto& a : dns.answer.apexes) apexes += " " + wire_to_name(a);
  log::get("dns")->info("{} serving apexes:{}; {} answers of TTL {}s, AAAA on {} labels", version(),
                        apexes, dns.answer.max_answers, dns.answer.ttl,
                        dns.answer.aaaa_all_labels ? "all" : "the 2.");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"timepool-dns: authoritative DNS server for the NTP pool names"};
  std::string config_path;
  std::vector<std::string> sets;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "TOML configuration file (section [dns])");
  app.add_option("--set", sets, "Override a setting: section.key=value (repeatable)");
  app.add_flag("--check-config", check_only, "Validate the configuration and exit");
  app.add_flag("--config-keys")->description("Print the configuration keys read and exit");
  app.set_version_flag("--version", std::string(version()));
  CLI11_PARSE(app, argc, argv);

  Loaded cfg;
  try {
    cfg = load_config(config_path, sets, app.count("--config-keys") > 0);
    log::setup(cfg.log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "timepool-dns: %s\n", e.what());
    return 2;
  }
  if (check_only || app.count("--config-keys")) return 0;
  auto logger = log::get("dns");

  // Before any thread starts: every thread inherits the blocked mask, and only the main
  // thread takes SIGHUP, SIGTERM and SIGINT (as events, core/signals).
  signals::SignalSet signals;

  io::Runtime rt;
  Metrics metrics;
  StatsWriter stats_writer(cfg.stats);
  Publisher publisher(stats_writer.query_stats());
  rt.published = &publisher;
  rt.metrics = &metrics;
  rt.stats = &stats_writer;
  metrics.set_extra([&stats_writer] { return stats_writer.metrics_text(); });
  rt.answer_cfg.store(std::make_shared<const AnswerConfig>(cfg.dns.answer));
  rt.tcp_idle_timeout_ms.store(cfg.dns.tcp_idle_timeout_ms, std::memory_order_relaxed);
  rt.tcp_message_timeout_ms.store(cfg.dns.tcp_message_timeout_ms, std::memory_order_relaxed);
  rt.tcp_max_connections = cfg.dns.tcp_max_connections;
  rt.tcp_max_per_address = cfg.dns.tcp_max_per_address;
  std::unique_ptr<io::Rrl> rrl;
  if (cfg.dns.rrl.rate > 0) {
    rrl = std::make_unique<io::Rrl>(cfg.dns.rrl);
    rt.rrl = rrl.get();
  }
  rt.rng_seed = cfg.dns.rng_seed;

  Server srv{rt, metrics, publisher, nullptr, nullptr};
  if (!open_geo(cfg.geo, srv.geo_db)) return 1;
  publisher.configure_geo(srv.geo_db, cfg.geo);
  std::vector<Sock> socks;
  try {
    socks = open_sockets(cfg, metrics, publisher);
  } catch (const std::exception& e) {
    logger->critical("cannot start: {}", e.what());
    return 1;
  }

  srv.loader = std::make_unique<Loader>(loader_config(cfg), publisher, metrics.loader());
  srv.loader->start();
  stats_writer.start();
  std::vector<std::thread> workers;
  for (const auto& s : socks) {
    WorkerCounters& counters = metrics.add_worker();
    const int fd = s.fd.get();
    if (s.tcp) workers.emplace_back([&rt, &counters, fd] { io::run_tcp(fd, rt, counters); });
    else workers.emplace_back([&rt, &counters, fd] { io::run_udp(fd, rt, counters); });
  }
  log_serving(cfg.dns);
  service::notify_ready();

  wait_for_stop(signals, config_path, sets, cfg, srv);
  rt.request_stop();
  for (auto& t : workers) t.join();
  stats_writer.stop();
  srv.loader->stop();
  metrics.stop();
  logger->info("stopped");
  return 0;
}
