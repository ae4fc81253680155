#include "server/metrics.hpp"

#include <httplib.h>

#include <map>
#include <stdexcept>

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

std::string Metrics::render(const Snapshot* snap, int64_t now_unix) const {
  std::map<size_t, std::string> zone_names;
  zone_names[0] = "";
  if (snap) {
    for (const auto& z : snap->zones()) {
      const size_t slot = WorkerCounters::zone_slot(z.id);
      if (slot != WorkerCounters::kZoneSlots - 1) zone_names[slot] = z.name;
    }
  }
  zone_names[WorkerCounters::kZoneSlots - 1] = "other";
  std::string out;
  out.reserve(16384);
  out += "# HELP timepool_dns_queries_total DNS queries answered, by zone, query type and response code.\n";
  out += "# TYPE timepool_dns_queries_total counter\n";
  uint64_t dropped = 0, udp = 0, tcp = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& w : workers_) {
      dropped += w->dropped();
      udp += w->udp();
      tcp += w->tcp();
    }
    for (size_t z = 0; z < WorkerCounters::kZoneSlots; ++z) {
      for (size_t t = 0; t < WorkerCounters::kTypes; ++t) {
        for (size_t r = 0; r < WorkerCounters::kRcodes; ++r) {
          uint64_t sum = 0;
          for (const auto& w : workers_) sum += w->queries(z, t, r);
          if (!sum) continue;
          auto it = zone_names.find(z);
          const std::string name = it != zone_names.end() ? it->second : "id" + std::to_string(z - 1);
          out += "timepool_dns_queries_total{zone=\"" + name + "\",qtype=\"" +
                 WorkerCounters::type_name(t) + "\",rcode=\"" + WorkerCounters::rcode_name(r) +
                 "\"} " + std::to_string(sum) + "\n";
        }
      }
    }
  }
  auto metric = [&](const char* name, const char* type, const char* help, const std::string& value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + value + "\n";
  };
  metric("timepool_dns_dropped_total", "counter", "Packets dropped without an answer.", std::to_string(dropped));
  metric("timepool_dns_udp_packets_total", "counter", "Queries received over UDP.", std::to_string(udp));
  metric("timepool_dns_tcp_messages_total", "counter", "Queries received over TCP.", std::to_string(tcp));
  const int64_t built = loader_.snapshot_built_unix.load();
  metric("timepool_dns_snapshot_age_seconds", "gauge", "Age of the data being served (-1: none).",
         built ? std::to_string(now_unix - built) : "-1");
  metric("timepool_dns_snapshot_servers", "gauge", "Servers in the snapshot.",
         std::to_string(snap ? snap->server_count() : 0));
  metric("timepool_dns_snapshot_names", "gauge", "Names in the snapshot.",
         std::to_string(snap ? snap->node_count() : 0));
  metric("timepool_dns_snapshot_zones", "gauge", "Zones in the snapshot.",
         std::to_string(snap ? snap->zones().size() : 0));
  metric("timepool_dns_snapshot_serial", "gauge", "SOA serial of the snapshot.",
         std::to_string(snap ? snap->serial() : 0));
  metric("timepool_dns_rebuild_duration_seconds", "gauge", "Duration of the last snapshot rebuild.",
         std::to_string(loader_.last_rebuild_seconds.load()));
  metric("timepool_dns_rebuilds_total", "counter", "Snapshot rebuilds from the database.",
         std::to_string(loader_.rebuilds.load()));
  metric("timepool_dns_db_errors_total", "counter", "Failed database connections or queries.",
         std::to_string(loader_.db_errors.load()));
  metric("timepool_dns_snapshot_disk_loads_total", "counter", "Snapshots loaded from the disk copy.",
         std::to_string(loader_.disk_loads.load()));
  metric("timepool_dns_db_up", "gauge", "1 when the last database operation succeeded.",
         loader_.db_up.load() ? "1" : "0");
  if (extra_) out += extra_();
  return out;
}

int Metrics::start(const std::string& host, int port,
                   std::function<std::shared_ptr<const Snapshot>()> current) {
  http_ = std::make_unique<httplib::Server>();
  http_->Get("/metrics", [this, current](const httplib::Request&, httplib::Response& res) {
    auto snap = current();
    res.set_content(render(snap.get(), static_cast<int64_t>(::time(nullptr))),
                    "text/plain; version=0.0.4");
  });
  int bound = port;
  if (port == 0) {
    bound = http_->bind_to_any_port(host);
  } else if (!http_->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) throw std::runtime_error("metrics: cannot bind " + host + ":" + std::to_string(port));
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return bound;
}

void Metrics::stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace timepool::server
