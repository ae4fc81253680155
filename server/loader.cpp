#include "server/loader.hpp"

#include <malloc.h>
#include <sys/stat.h>

#include <ctime>
#include <functional>
#include <map>
#include <string_view>
#include <unordered_map>

#include "core/log.hpp"
#include "core/pg.hpp"

namespace timepool::server {

namespace {

constexpr const char* kChannel = "timepool_dns";

// Every zone the server publishes: all non-vendor zones, and vendor zones once approved.
constexpr const char* kZonesSql = R"SQL(
SELECT z.id, z.name, z.kind, z.alias_of, v.client_type, z.parent_id
FROM zones z
LEFT JOIN vendor_zones v ON v.zone_id = z.id AND v.status = 'approved'
WHERE z.kind <> 'vendor' OR v.id IS NOT NULL
ORDER BY z.id
)SQL";

// Eligible servers (the view holds the pool rules) with their country. A server's zones are
// its country, that country's parent (its continent) and the global zone: the rule the
// trigger servers_sync_zones (schema/0003_servers.sql) keeps server_zones by, applied here to
// the zones just read. Reading server_zones instead (three rows a server) was 40% of a
// rebuild at 100,000 servers; integration.stats.loader_members checks both agree.
// Read in binary: the server sends the inet and the integers as they are stored (formatting
// 100,000 addresses as text with host() took longer than the rest of the query), and nothing
// here parses text. The casts pin the binary forms decoded below.
constexpr const char* kServersSql =
    "SELECT id::int8, address::inet, netspeed::int4, country::text FROM eligible_servers";

// A kind or client type this server does not know refuses the whole read: the snapshot in
// use stays, and the error names the zone (the schema's CHECK constraints make this a
// schema newer than the server).
ZoneKind zone_kind(std::string_view text, int64_t zone_id) {
  if (auto k = parse_zone_kind(text)) return *k;
  throw std::runtime_error("zone " + std::to_string(zone_id) + ": unknown kind '" +
                           std::string(text) + "'");
}

ClientType client_type(std::string_view text, int64_t zone_id) {
  if (auto c = parse_client_type(text)) return *c;
  throw std::runtime_error("zone " + std::to_string(zone_id) + ": unknown client type '" +
                           std::string(text) + "'");
}

// A big-endian integer cell of a binary result (int8 or int4), refusing any other size.
template <typename T>
T be_integer(std::span<const uint8_t> b, const char* what) {
  if (b.size() != sizeof(T)) {
    throw std::runtime_error(std::string("eligible_servers: bad ") + what + " (" +
                             std::to_string(b.size()) + " bytes)");
  }
  uint64_t v = 0;
  for (uint8_t x : b) v = (v << 8) | x;
  return static_cast<T>(v);
}

// The zones of a server by its country (servers.country names a country zone, never an
// alias: the trigger refuses anything else): the country, its parent and the global zone.
class Memberships {
 public:
  explicit Memberships(const std::vector<ZoneRow>& zones) {
    std::vector<int64_t> global;
    for (const auto& z : zones) {
      if (z.kind == ZoneKind::Global) global.push_back(z.id);
    }
    for (const auto& z : zones) {
      if (z.kind != ZoneKind::Country || z.alias_of) continue;
      std::vector<int64_t>& ids = by_country_[z.name];
      ids.push_back(z.id);
      if (z.parent_id) ids.push_back(*z.parent_id);
      ids.insert(ids.end(), global.begin(), global.end());
    }
  }
  // Empty for a name that is no country zone.
  const std::vector<int64_t>& of(std::string_view country) const {
    auto it = by_country_.find(country);
    return it == by_country_.end() ? none_ : it->second;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::vector<int64_t>, Hash, std::equal_to<>> by_country_;
  std::vector<int64_t> none_;
};

// A rebuild reads and frees several times the snapshot's size (query results, the rows, the
// file's text) on this thread's malloc arena; glibc keeps freed pages resident. Handing them
// back after each rebuild keeps the resident size near what is really in use (bench/dns
// --scale: 64 MB at 100,000 servers).
void give_back_memory() { ::malloc_trim(0); }

}  // namespace

SourceData fetch_source(pg::Connection& conn) {
  SourceData src;
  // One consistent picture of zones, servers and memberships.
  pg::Transaction tx(conn, pg::Isolation::kRepeatableRead, pg::Access::kReadOnly);
  {
    auto zr = tx.exec(kZonesSql);
    for (int r = 0; r < zr.rows(); ++r) {
      ZoneRow z;
      z.id = zr.get<int64_t>(r, 0);
      z.name = zr.get<std::string>(r, 1);
      z.kind = zone_kind(zr.text(r, 2), z.id);
      z.alias_of = zr.get<std::optional<int64_t>>(r, 3);
      if (!zr.is_null(r, 4)) z.client_type = client_type(zr.text(r, 4), z.id);
      z.parent_id = zr.get<std::optional<int64_t>>(r, 5);
      src.zones.push_back(std::move(z));
    }
    const Memberships members(src.zones);
    auto sr = tx.exec_binary(kServersSql);
    const int nservers = sr.rows();
    src.servers.reserve(static_cast<size_t>(nservers));
    for (int r = 0; r < nservers; ++r) {
      ServerRow s;
      s.id = be_integer<int64_t>(sr.bytes(r, 0), "id");
      if (!parse_inet_binary(sr.bytes(r, 1), s)) continue;
      s.netspeed = be_integer<uint32_t>(sr.bytes(r, 2), "netspeed");
      const auto country = sr.bytes(r, 3);
      s.zones = members.of(std::string_view(reinterpret_cast<const char*>(country.data()), country.size()));
      src.servers.push_back(std::move(s));
    }
  }
  tx.commit();
  return src;
}

Loader::Loader(LoaderConfig cfg, Publisher& publisher, LoaderStats& stats)
    : cfg_(std::move(cfg)),
      balancer_enabled_(cfg_.balancer.enabled),
      balancer_interval_s_(cfg_.balancer.interval.count()),
      balancer_window_s_(cfg_.balancer.window.count()),
      balancer_factor_(cfg_.balancer.factor),
      balancer_min_servers_(cfg_.balancer.min_servers),
      publisher_(publisher),
      stats_(stats),
      link_("database", log::get("dns"), {std::chrono::milliseconds(250), std::chrono::seconds(30)},
            [] { return std::string("answering from the last good snapshot"); }) {}

Loader::~Loader() { stop(); }

void Loader::set_balancer(const BalancerSettings& b) {
  balancer_interval_s_.store(b.interval.count(), std::memory_order_relaxed);
  balancer_window_s_.store(b.window.count(), std::memory_order_relaxed);
  balancer_factor_.store(b.factor, std::memory_order_relaxed);
  balancer_min_servers_.store(b.min_servers, std::memory_order_relaxed);
  balancer_enabled_.store(b.enabled, std::memory_order_relaxed);
  // Released after the settings: the loader thread that sees the flag sees them too.
  balancer_changed_.store(true, std::memory_order_release);
  request_rebuild();
}

BalancerSettings Loader::balancer() const {
  BalancerSettings b;
  b.enabled = balancer_enabled_.load(std::memory_order_relaxed);
  b.interval = std::chrono::seconds(balancer_interval_s_.load(std::memory_order_relaxed));
  b.window = std::chrono::seconds(balancer_window_s_.load(std::memory_order_relaxed));
  b.factor = balancer_factor_.load(std::memory_order_relaxed);
  b.min_servers = balancer_min_servers_.load(std::memory_order_relaxed);
  return b;
}

void Loader::install(const SourceData& src, const char* from, double read_ms,
                     std::optional<std::shared_ptr<const Mixtures>> mixtures) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  serial_ = std::max<uint32_t>(serial_ + 1, static_cast<uint32_t>(::time(nullptr)));
  auto snap = Snapshot::build(src, serial_);
  const auto t1 = clock::now();
  if (mixtures) publisher_.publish(snap, std::move(*mixtures));
  else publisher_.publish(snap);
  const double build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double publish_ms = std::chrono::duration<double, std::milli>(clock::now() - t1).count();
  auto log = log::get("dns");
  std::string zones_line;
  size_t shown = 0;
  for (const auto& z : snap->zones()) {
    if (z.servers_v4 + z.servers_v6 == 0 || shown >= 12) continue;
    zones_line += " " + (z.name) + "=" + std::to_string(z.servers_v4) + "/" + std::to_string(z.servers_v6);
    ++shown;
  }
  log->info("snapshot from {}: serial={} servers={} zones={} names={} skipped={} read={:.1f}ms "
            "build={:.1f}ms publish={:.1f}ms; servers v4/v6:{}{}",
            from, snap->serial(), snap->server_count(), snap->zones().size(), snap->node_count(),
            snap->skipped(), read_ms, build_ms, publish_ms, zones_line, shown == 12 ? " ..." : "");
}

bool Loader::rebuild_from_db() {
  auto log = log::get("dns");
  const auto t0 = std::chrono::steady_clock::now();
  try {
    if (!conn_ || !conn_->ok()) {
      conn_.reset();
      conn_ = std::make_unique<pg::Connection>(pg::Connection::open(cfg_.conninfo));
      // A streaming replica cannot LISTEN (and NOTIFY is not replicated): there the snapshot
      // follows the replicated change counter, or, on a schema without it, the timer alone.
      poll_counter_ = false;
      if (conn_->exec("SELECT pg_is_in_recovery()").get<bool>(0, 0)) {
        poll_counter_ =
            conn_->exec("SELECT to_regclass('dns_change') IS NOT NULL").get<bool>(0, 0);
        if (poll_counter_) {
          log->info("database is a standby: no NOTIFY there, reading the change counter every "
                    "{}ms",
                    cfg_.standby_poll.count());
        } else {
          log->info("database is a standby without dns_change (schema before 0012): rebuilding "
                    "every {}s",
                    std::chrono::duration_cast<std::chrono::seconds>(cfg_.interval).count());
        }
      } else {
        conn_->listen(kChannel);
      }
    }
    {
      // Read before the data: a change that lands in between moves the counter past this value
      // and brings one more rebuild, never a missed one.
      if (poll_counter_) counter_seen_ = read_counter();
      SourceData src = fetch_source(*conn_);
      // With the balancer off, no mixtures: answers follow the plain geo rule.
      auto mixtures = balancer_enabled_.load(std::memory_order_relaxed)
                          ? balance(src)
                          : std::shared_ptr<const Mixtures>();
      install(src, "database",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
              mixtures);
      if (mixtures) src.mixtures = mixtures->rows();
      stats_.last_rebuild_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      stats_.snapshot_built_unix = static_cast<int64_t>(::time(nullptr));
      ++stats_.rebuilds;
      stats_.db_up = true;
      link_.succeeded();
      read_monitoring();
      if (!cfg_.snapshot_file.empty()) {
        try {
          save_source(src, serial_, cfg_.snapshot_file);
        } catch (const std::exception& e) {
          log->warn("snapshot file not written: {}", e.what());
        }
      }
    }
    give_back_memory();
    return true;
  } catch (const std::exception& e) {
    ++stats_.db_errors;
    stats_.db_up = false;
    conn_.reset();
    link_.failed(e.what());
    return false;
  }
}

std::shared_ptr<const Mixtures> Loader::balance(const SourceData& src) {
  auto log = log::get("dns");
  const auto now = std::chrono::steady_clock::now();
  const bool changed = balancer_changed_.exchange(false, std::memory_order_acquire);
  const BalancerSettings settings = balancer();
  if (changed || !demand_read_at_ || now - *demand_read_at_ >= settings.interval) {
    try {
      demand_ = fetch_demand(*conn_, settings.window);
      demand_read_at_ = now;
    } catch (const pg::Error& e) {
      // The servers were read: answer with them and the demand read last time.
      log->warn("balancer: demand not read ({}); using the last read", e.what());
    }
  }
  auto mixtures = mixtures_from(src, demand_, settings);
  log->debug("balancer: {} mixtures from {} demand rows (window {}s, factor {})",
             mixtures->size(), demand_.size(), settings.window.count(), settings.factor);
  return mixtures;
}

bool Loader::load_disk() {
  if (cfg_.snapshot_file.empty()) return false;
  try {
    uint32_t serial = 0;
    SourceData src = load_source(cfg_.snapshot_file, &serial);
    serial_ = serial ? serial - 1 : 0;
    // The mixtures the balancer published with this data, so answers keep following the
    // measured demand while the database is away (none with the balancer off).
    std::shared_ptr<const Mixtures> mixtures;
    if (balancer_enabled_.load(std::memory_order_relaxed) && !src.mixtures.empty()) {
      mixtures = std::make_shared<const Mixtures>(src.mixtures);
    }
    install(src, ("file " + cfg_.snapshot_file).c_str(), 0, mixtures);
    if (mixtures) log::get("dns")->info("balancer: {} mixtures from the snapshot file", mixtures->size());
    ++stats_.disk_loads;
    // The data is as old as the file: that is the age to report.
    struct stat st {};
    if (::stat(cfg_.snapshot_file.c_str(), &st) == 0) stats_.snapshot_built_unix = st.st_mtime;
    give_back_memory();
    return true;
  } catch (const std::exception& e) {
    log::get("dns")->error("snapshot file: {}", e.what());
    return false;
  }
}

void Loader::start() {
  if (!rebuild_from_db()) {
    if (!load_disk()) {
      log::get("dns")->error("no data yet: answering SERVFAIL below the apexes until the "
                             "database is reachable");
    }
  }
  thread_ = std::thread([this] { run(); });
}

// The snapshot never depends on it: during a monitoring outage the database keeps the pool as it
// was (schema/0013_monitor_selection.sql), and this only makes the outage loud.
void Loader::read_monitoring() {
  auto log = log::get("dns");
  int outage = -1;
  double age = -1;
  try {
    auto r = conn_->exec(
        "SELECT outage, coalesce(seconds_since_report, -1)::float8 FROM monitoring_outage");
    outage = r.get<bool>(0, 0) ? 1 : 0;
    age = r.get<double>(0, 1);
  } catch (const std::exception& e) {
    log->warn("monitoring state not readable: {}", e.what());
  }
  const int before = stats_.monitoring_outage.exchange(outage);
  stats_.monitoring_report_age_seconds = age;
  // Loud, but once when it starts and then every ten minutes, not with every rebuild.
  const auto now = std::chrono::steady_clock::now();
  if (outage == 1 && (before != 1 || now - outage_logged_ >= std::chrono::minutes(10))) {
    outage_logged_ = now;
    log->error("monitoring outage: no monitor has reported for {:.0f} s; serving the pool as it "
               "was",
               age);
  } else if (outage == 0 && before == 1) {
    log->warn("monitoring outage over: monitors report again");
  }
}

void Loader::request_rebuild() { requested_ = true; }

void Loader::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Loader::run() {
  using clock = std::chrono::steady_clock;
  const std::chrono::milliseconds tick(100);  // how fast stop() and SIGHUP are noticed
  auto next_timer = clock::now() + cfg_.interval;
  bool pending = false;  // a NOTIFY arrived; rebuild at pending_at
  clock::time_point pending_at{};
  bool wanted = false;
  auto next_status = clock::now() + std::chrono::minutes(5);
  auto next_poll = clock::now();
  auto next_balance = clock::now() + std::chrono::seconds(balancer_interval_s_.load());
  while (!stop_) {
    const auto now = clock::now();
    if (now >= next_status) {
      // What is being served, now and then; every minute while the database is away.
      next_status = now + (stats_.db_up ? std::chrono::minutes(5) : std::chrono::minutes(1));
      log_status();
    }
    // After a failure the link is down: retry when its backoff says so.
    if (balancer_enabled_.load(std::memory_order_relaxed) && now >= next_balance) {
      // The balancer reads the demand again with the next rebuild (server/demand.hpp).
      next_balance = now + std::chrono::seconds(balancer_interval_s_.load(std::memory_order_relaxed));
      wanted = true;
    }
    wanted = wanted || requested_.exchange(false) || now >= next_timer ||
             (pending && now >= pending_at) || !link_.up();
    if (wanted && link_.due(now)) {
      wanted = false;
      pending = false;
      next_timer = now + cfg_.interval;
      rebuild_from_db();
      continue;
    }
    if (!conn_) {
      std::this_thread::sleep_for(tick);
      continue;
    }
    try {
      if (poll_counter_) {
        // A standby: one indexed single-row read per poll; a moved counter rebuilds at once
        // (the poll interval already coalesces bursts).
        if (now >= next_poll) {
          next_poll = now + cfg_.standby_poll;
          ++stats_.counter_polls;
          if (read_counter() != counter_seen_) wanted = true;
          continue;
        }
        std::this_thread::sleep_until(std::min(next_poll, now + tick));
        continue;
      }
      bool notified = conn_->wait_notification(tick).has_value();
      notified = !conn_->drain_notifications().empty() || notified;  // a burst counts once
      if (notified && !pending) {
        pending = true;
        pending_at = clock::now() + cfg_.debounce;
      }
    } catch (const std::exception& e) {
      ++stats_.db_errors;
      stats_.db_up = false;
      conn_.reset();
      link_.failed(std::string("connection lost: ") + e.what());
    }
  }
}

int64_t Loader::read_counter() {
  return conn_->exec("SELECT counter FROM dns_change WHERE id").get<int64_t>(0, 0);
}

void Loader::log_status() {
  const auto pub = publisher_.load();
  if (!pub->snapshot) return;
  const Snapshot& snap = *pub->snapshot;
  const int64_t built = stats_.snapshot_built_unix.load();
  log::get("dns")->info("serving snapshot serial={} servers={} zones={} age={}s database={}",
                        snap.serial(), snap.server_count(), snap.zones().size(),
                        built ? static_cast<int64_t>(::time(nullptr)) - built : -1,
                        stats_.db_up ? "up" : "down");
}

}  // namespace timepool::server
