#include "monitor/settings.hpp"

#include <fstream>
#include <sstream>

namespace timepool::monitor {

Settings read_settings(const config::Document& doc, bool need_key) {
  auto s = doc.section("monitor");
  Settings r;
  using std::chrono::milliseconds;
  r.key = s.get_string("key", "");
  const std::string key_file = s.get_string("key_file", "");
  if (r.key.empty() && !key_file.empty()) {
    std::ifstream in(key_file);
    if (!in) throw config::Error(doc.origin() + ": monitor.key_file: cannot read " + key_file);
    std::ostringstream ss;
    ss << in.rdbuf();
    r.key = ss.str();
    while (!r.key.empty() && (r.key.back() == '\n' || r.key.back() == ' ')) r.key.pop_back();
  }
  if (need_key && r.key.empty()) {
    throw config::Error(doc.origin() +
                        ": monitor.key: missing (set key or key_file; `timepoolctl monitor add "
                        "NAME` prints a key)");
  }
  r.interval = milliseconds(s.get_int("interval_ms", 540000, 100, 86400000));
  r.new_server_within = milliseconds(s.get_int("new_server_within_ms", 25000, 0, 3600000));
  r.refresh = milliseconds(s.get_int("refresh_ms", 30000, 100, 3600000));
  r.ntp_port = static_cast<uint16_t>(s.get_int("ntp_port", 123, 1, 65535));
  r.probe.packets = static_cast<int>(s.get_int("packets", 3, 1, 8));
  r.probe.spacing = milliseconds(s.get_int("packet_spacing_ms", 2000, 1, 60000));
  r.probe.timeout = milliseconds(s.get_int("packet_timeout_ms", 3000, 1, 60000));
  r.probe.version = static_cast<uint8_t>(s.get_int("ntp_version", 4, 3, 4));
  r.probe.max_root_distance = s.get_double("max_root_distance_s", 1.5, 0.001, 16);
  r.max_in_flight = static_cast<std::size_t>(s.get_int("max_in_flight", 20000, 1, 1000000));
  r.rate_backoff_max = static_cast<int>(s.get_int("rate_backoff_max", 16, 1, 1024));
  r.batch_max = static_cast<std::size_t>(s.get_int("batch_max", 2000, 1, 100000));
  r.batch_interval = milliseconds(s.get_int("batch_interval_ms", 1000, 10, 600000));
  r.queue_max = static_cast<std::size_t>(s.get_int("queue_max", 1000000, 1, 100000000));
  r.trust_local_clock = s.get_bool("trust_local_clock", false);
  r.max_clock_error =
      std::chrono::microseconds(s.get_int("max_clock_error_us", 100000, 1, 16000000));
  const std::string listen = s.get_string("metrics_listen", "127.0.0.1:9124");
  r.metrics_listen.reset();
  if (!listen.empty()) {
    r.metrics_listen = net::Endpoint::parse(listen);
    if (!r.metrics_listen) {
      throw config::Error(doc.origin() + ": monitor.metrics_listen: '" + listen +
                          "' is not ADDRESS:PORT or [IPV6]:PORT (or \"\" to turn it off)");
    }
  }
  r.probe_log_retention_days =
      static_cast<int>(s.get_int("probe_log_retention_days", 90, 0, 36500));
  return r;
}

Reloadable reloadable(const Settings& s) {
  return Reloadable{s.trust_local_clock, s.max_clock_error, s.max_in_flight,
                    s.batch_max,         s.batch_interval,  s.refresh};
}

std::string restart_only_changes(const Settings& a, const Settings& b) {
  std::string out;
  auto note = [&](bool differs, const char* key) {
    if (!differs) return;
    if (!out.empty()) out += ", ";
    out += key;
  };
  note(a.key != b.key, "key");
  note(a.interval != b.interval, "interval_ms");
  note(a.new_server_within != b.new_server_within, "new_server_within_ms");
  note(a.ntp_port != b.ntp_port, "ntp_port");
  note(a.probe.packets != b.probe.packets, "packets");
  note(a.probe.spacing != b.probe.spacing, "packet_spacing_ms");
  note(a.probe.timeout != b.probe.timeout, "packet_timeout_ms");
  note(a.probe.version != b.probe.version, "ntp_version");
  note(a.probe.max_root_distance != b.probe.max_root_distance, "max_root_distance_s");
  note(a.rate_backoff_max != b.rate_backoff_max, "rate_backoff_max");
  note(a.queue_max != b.queue_max, "queue_max");
  note(a.metrics_listen != b.metrics_listen, "metrics_listen");
  note(a.probe_log_retention_days != b.probe_log_retention_days, "probe_log_retention_days");
  return out;
}

}  // namespace timepool::monitor
