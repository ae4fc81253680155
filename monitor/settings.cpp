#include "monitor/settings.hpp"

#include <unistd.h>

#include <filesystem>
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
  r.url = s.get_string("url", "");
  if (need_key && r.url.empty()) {
    throw config::Error(doc.origin() +
                        ": monitor.url: missing (the monitor API, e.g. https://monitor-api.example.org:8443)");
  }
  if (!r.url.empty() && r.url.rfind("https://", 0) != 0 && r.url.rfind("http://", 0) != 0) {
    throw config::Error(doc.origin() + ": monitor.url: '" + r.url +
                        "' is not an https:// (or, for a local run, http://) URL");
  }
  r.ca_file = s.get_string("ca_file", "");
  std::error_code ec;
  if (!r.ca_file.empty() &&
      (!std::filesystem::is_regular_file(r.ca_file, ec) || ::access(r.ca_file.c_str(), R_OK) != 0)) {
    throw config::Error(doc.origin() + ": monitor.ca_file: cannot read " + r.ca_file);
  }
  r.request_timeout = milliseconds(s.get_int("request_timeout_ms", 10000, 100, 600000));
  r.spool_dir = s.get_string("spool_dir", "/var/lib/timepool/monitor-spool");
  if (r.spool_dir.empty()) throw config::Error(doc.origin() + ": monitor.spool_dir: empty");
  r.spool_max_bytes = static_cast<std::size_t>(
      s.get_int("spool_max_bytes", int64_t{1} << 30, 65536, int64_t{1} << 40));
  r.spool_max_batches =
      static_cast<std::size_t>(s.get_int("spool_max_batches", 100000, 1, 10000000));
  r.new_server_within = milliseconds(s.get_int("new_server_within_ms", 25000, 0, 3600000));
  r.ntp_port = static_cast<uint16_t>(s.get_int("ntp_port", 123, 1, 65535));
  r.probe.packets = static_cast<int>(s.get_int("packets", 3, 1, 8));
  r.probe.spacing = milliseconds(s.get_int("packet_spacing_ms", 2000, 1, 60000));
  r.probe.timeout = milliseconds(s.get_int("packet_timeout_ms", 3000, 1, 60000));
  r.probe.version = static_cast<uint8_t>(s.get_int("ntp_version", 4, 3, 4));
  r.probe.max_root_distance = s.get_double("max_root_distance_s", 1.5, 0.001, 16);
  r.max_in_flight = static_cast<std::size_t>(s.get_int("max_in_flight", 20000, 1, 1000000));
  r.rate_backoff_max = static_cast<int>(s.get_int("rate_backoff_max", 16, 1, 1024));
  r.batch_max = static_cast<std::size_t>(s.get_int("batch_max", 2000, 1, 5000));
  r.batch_interval = milliseconds(s.get_int("batch_interval_ms", 1000, 10, 600000));
  r.trust_local_clock = s.get_bool("trust_local_clock", false);
  r.max_clock_error =
      std::chrono::microseconds(s.get_int("max_clock_error_us", 100000, 1, 16000000));
  for (const auto& text : s.get_strings("reference_servers", {})) {
    auto e = net::Endpoint::parse(text);
    if (!e) {
      throw config::Error(doc.origin() + ": monitor.reference_servers: '" + text +
                          "' is not ADDRESS:PORT or [IPV6]:PORT");
    }
    r.reference_servers.push_back(*e);
  }
  r.reference_max_offset_s = s.get_double("reference_max_offset_ms", 10, 0.001, 10000) / 1000;
  r.reference_interval = milliseconds(s.get_int("reference_interval_ms", 0, 0, 86400000));
  const std::string listen = s.get_string("metrics_listen", "127.0.0.1:9124");
  r.metrics_listen.reset();
  if (!listen.empty()) {
    r.metrics_listen = net::Endpoint::parse(listen);
    if (!r.metrics_listen) {
      throw config::Error(doc.origin() + ": monitor.metrics_listen: '" + listen +
                          "' is not ADDRESS:PORT or [IPV6]:PORT (or \"\" to turn it off)");
    }
  }
  return r;
}

Reloadable reloadable(const Settings& s) {
  return Reloadable{s.trust_local_clock, s.max_clock_error, s.max_in_flight, s.batch_max,
                    s.batch_interval};
}

std::string restart_only_changes(const Settings& a, const Settings& b) {
  std::string out;
  auto note = [&](bool differs, const char* key) {
    if (!differs) return;
    if (!out.empty()) out += ", ";
    out += key;
  };
  note(a.key != b.key, "key");
  note(a.url != b.url, "url");
  note(a.ca_file != b.ca_file, "ca_file");
  note(a.request_timeout != b.request_timeout, "request_timeout_ms");
  note(a.spool_dir != b.spool_dir, "spool_dir");
  note(a.spool_max_bytes != b.spool_max_bytes, "spool_max_bytes");
  note(a.spool_max_batches != b.spool_max_batches, "spool_max_batches");
  note(a.new_server_within != b.new_server_within, "new_server_within_ms");
  note(a.ntp_port != b.ntp_port, "ntp_port");
  note(a.reference_servers != b.reference_servers, "reference_servers");
  note(a.reference_max_offset_s != b.reference_max_offset_s, "reference_max_offset_ms");
  note(a.reference_interval != b.reference_interval, "reference_interval_ms");
  note(a.probe.packets != b.probe.packets, "packets");
  note(a.probe.spacing != b.probe.spacing, "packet_spacing_ms");
  note(a.probe.timeout != b.probe.timeout, "packet_timeout_ms");
  note(a.probe.version != b.probe.version, "ntp_version");
  note(a.probe.max_root_distance != b.probe.max_root_distance, "max_root_distance_s");
  note(a.rate_backoff_max != b.rate_backoff_max, "rate_backoff_max");
  note(a.metrics_listen != b.metrics_listen, "metrics_listen");
  return out;
}

}  // namespace timepool::monitor
