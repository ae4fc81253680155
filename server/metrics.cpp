#include "server/metrics.hpp"

#include <map>
#include <ctime>

#include "core/prometheus.hpp"

namespace timepool::server {

size_t WorkerCounters::zone_slot(int64_t zone_id) {
  if (zone_id < 0) return 0;
  return zone_id + 1 >= static_cast<int64_t>(kZoneSlots) ? kZoneSlots - 1
                                                          : static_cast<size_t>(zone_id + 1);
}

size_t WorkerCounters::type_slot(uint16_t t) {
  switch (t) {
    case rrtype::kA: return 0;
    case rrtype::kAAAA: return 1;
    case rrtype::kSOA: return 2;
    case rrtype::kNS: return 3;
    case rrtype::kTXT: return 4;
    case rrtype::kANY: return 5;
    case rrtype::kAXFR: case rrtype::kIXFR: return 6;
    default: return 7;
  }
}

const char* WorkerCounters::type_name(size_t slot) {
  static const char* const kNames[kTypes] = {"A", "AAAA", "SOA", "NS", "TXT", "ANY", "XFR", "other"};
  return kNames[slot];
}

size_t WorkerCounters::rcode_slot(uint16_t rc) {
  if (rc <= 5) return rc;
  return rc == rcode::kBadVers ? 6 : 7;
}

const char* WorkerCounters::rcode_name(size_t slot) {
  static const char* const kNames[kRcodes] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                               "NOTIMP",  "REFUSED", "BADVERS",  "other"};
  return kNames[slot];
}

void WorkerCounters::count(const AnswerStats& st, bool tcp) {
  bump(tcp ? tcp_ : udp_);
  if (st.dropped) {
    bump(dropped_);
    return;
  }
  bump(q_[zone_slot(st.zone_id)][type_slot(st.qtype)][rcode_slot(st.rcode)]);
}

Metrics::Metrics() = default;
Metrics::~Metrics() { stop(); }

WorkerCounters& Metrics::add_worker() {
  std::lock_guard lock(mu_);
  workers_.push_back(std::make_unique<WorkerCounters>());
  return *workers_.back();
}

namespace {

using Workers = std::vector<std::unique_ptr<WorkerCounters>>;
using ZoneNames = std::map<size_t, std::string>;

// The label of each zone slot: the snapshot's zone names, "" for no zone, "other" for the
// overflow slot.
ZoneNames zone_slot_names(const Snapshot* snap) {
  ZoneNames names;
  names[0] = "";
  if (snap) {
    for (const auto& z : snap->zones()) {
      const size_t slot = WorkerCounters::zone_slot(z.id);
      if (slot != WorkerCounters::kZoneSlots - 1) names[slot] = z.name;
    }
  }
  names[WorkerCounters::kZoneSlots - 1] = "other";
  return names;
}

struct Totals {
  uint64_t dropped = 0, udp = 0, tcp = 0;
  std::array<uint64_t, static_cast<size_t>(Door::kCount)> doors{};
  uint64_t door(Door d) const { return doors[static_cast<size_t>(d)]; }
};

Totals sum_workers(const Workers& workers) {
  Totals t;
  for (const auto& wc : workers) {
    t.dropped += wc->dropped();
    t.udp += wc->udp();
    t.tcp += wc->tcp();
    for (size_t d = 0; d < t.doors.size(); ++d) t.doors[d] += wc->door(static_cast<Door>(d));
  }
  return t;
}

// One sample per (zone, type, rcode) that any worker counted.
void write_queries(prometheus::TextWriter& w, const Workers& workers, const ZoneNames& names) {
  w.family("timepool_dns_queries_total", prometheus::Type::kCounter,
           "DNS queries answered, by zone, query type and response code.");
  for (size_t z = 0; z < WorkerCounters::kZoneSlots; ++z) {
    auto it = names.find(z);
    const std::string name = it != names.end() ? it->second : "id" + std::to_string(z - 1);
    for (size_t t = 0; t < WorkerCounters::kTypes; ++t) {
      for (size_t r = 0; r < WorkerCounters::kRcodes; ++r) {
        uint64_t sum = 0;
        for (const auto& wc : workers) sum += wc->queries(z, t, r);
        if (!sum) continue;
        w.sample("timepool_dns_queries_total",
                 {{"zone", name}, {"qtype", WorkerCounters::type_name(t)},
                  {"rcode", WorkerCounters::rcode_name(r)}},
                 sum);
      }
    }
  }
}

void write_totals(prometheus::TextWriter& w, const Totals& t) {
  w.counter("timepool_dns_dropped_total", "Packets dropped without an answer.", t.dropped);
  w.counter("timepool_dns_udp_packets_total", "Queries received over UDP.", t.udp);
  w.counter("timepool_dns_tcp_messages_total", "Queries received over TCP.", t.tcp);
  w.family("timepool_dns_tcp_closed_total", prometheus::Type::kCounter,
           "TCP connections the server closed to protect itself, by reason.");
  w.sample("timepool_dns_tcp_closed_total", {{"reason", "per_address_limit"}},
           t.door(Door::kTcpPerAddress));
  w.sample("timepool_dns_tcp_closed_total", {{"reason", "evicted"}}, t.door(Door::kTcpEvicted));
  w.sample("timepool_dns_tcp_closed_total", {{"reason", "message_timeout"}},
           t.door(Door::kTcpMessageTimeout));
  w.family("timepool_dns_rrl_responses_total", prometheus::Type::kCounter,
           "UDP responses over the response rate limit: dropped, or sent truncated (slip).");
  w.sample("timepool_dns_rrl_responses_total", {{"action", "dropped"}}, t.door(Door::kRrlDropped));
  w.sample("timepool_dns_rrl_responses_total", {{"action", "slipped"}}, t.door(Door::kRrlSlipped));
}

void write_snapshot(prometheus::TextWriter& w, const Snapshot* snap, const LoaderStats& loader,
                    int64_t now_unix) {
  const int64_t built = loader.snapshot_built_unix.load();
  w.gauge("timepool_dns_snapshot_age_seconds", "Age of the data being served (-1: none).",
          built ? now_unix - built : int64_t{-1});
  const auto gauge = [&](const char* name, const char* help, size_t n) {
    w.gauge(name, help, static_cast<int64_t>(n));
  };
  gauge("timepool_dns_snapshot_servers", "Servers in the snapshot.", snap ? snap->server_count() : 0);
  gauge("timepool_dns_snapshot_names", "Names in the snapshot.", snap ? snap->node_count() : 0);
  gauge("timepool_dns_snapshot_zones", "Zones in the snapshot.", snap ? snap->zones().size() : 0);
  gauge("timepool_dns_snapshot_serial", "SOA serial of the snapshot.", snap ? snap->serial() : 0);
}

void write_loader(prometheus::TextWriter& w, const LoaderStats& loader) {
  w.gauge("timepool_dns_rebuild_duration_seconds", "Duration of the last snapshot rebuild.",
          loader.last_rebuild_seconds.load());
  w.counter("timepool_dns_rebuilds_total", "Snapshot rebuilds from the database.",
            loader.rebuilds.load());
  w.counter("timepool_dns_db_errors_total", "Failed database connections or queries.",
            loader.db_errors.load());
  w.counter("timepool_dns_snapshot_disk_loads_total", "Snapshots loaded from the disk copy.",
            loader.disk_loads.load());
  w.counter("timepool_dns_change_polls_total",
            "Reads of the change counter on a hot standby (no LISTEN there).",
            loader.counter_polls.load());
  w.gauge("timepool_dns_db_up", "1 when the last database operation succeeded.",
          int64_t{loader.db_up.load() ? 1 : 0});
  w.gauge("timepool_dns_monitoring_outage",
          "1 while no monitor reports (the pool is frozen as it was), 0 normal, -1 unknown.",
          int64_t{loader.monitoring_outage.load()});
  w.gauge("timepool_dns_monitoring_report_age_seconds",
          "Seconds since any monitor last reported a score (-1: never or unknown).",
          loader.monitoring_report_age_seconds.load());
}

}  // namespace

std::string Metrics::render(const Snapshot* snap, int64_t now_unix) const {
  const ZoneNames names = zone_slot_names(snap);
  prometheus::TextWriter w;
  Totals totals;
  {
    std::lock_guard lock(mu_);
    totals = sum_workers(workers_);
    write_queries(w, workers_, names);
  }
  write_totals(w, totals);
  write_snapshot(w, snap, loader_, now_unix);
  write_loader(w, loader_);
  if (extra_) w.raw(extra_());
  return w.take();
}

uint16_t Metrics::start(const net::Endpoint& listen,
                        std::function<std::shared_ptr<const Snapshot>()> current) {
  http_ = std::make_unique<prometheus::HttpServer>([this, current = std::move(current)] {
    auto snap = current();
    return render(snap.get(), static_cast<int64_t>(::time(nullptr)));
  });
  return http_->start(listen);
}

void Metrics::stop() {
  if (http_) http_->stop();
}

}  // namespace timepool::server
