#include "monitor/metrics.hpp"

#include <fmt/format.h>

#include <chrono>

namespace timepool::monitor {

std::string_view outcome_label(scoring::Outcome o) {
  switch (o) {
    case scoring::Outcome::kNoResponse: return "timeout";
    case scoring::Outcome::kKissRate: return "kod_rate";
    case scoring::Outcome::kKissDeny: return "kod_deny";
    case scoring::Outcome::kKissRstr: return "kod_rstr";
    case scoring::Outcome::kStratumZero: return "stratum0";
    case scoring::Outcome::kError: return "error";
    case scoring::Outcome::kSample: return "ok";
  }
  return "unknown";
}

namespace {

void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

}  // namespace

std::string render_metrics(const Metrics& m, const ProberStats& p, const ResultQueue& q) {
  std::string out;
  out += "# HELP timepool_monitor_probes_total Probes finished, by result.\n"
         "# TYPE timepool_monitor_probes_total counter\n";
  for (std::size_t i = 0; i < Metrics::kOutcomes; ++i) {
    out += fmt::format("timepool_monitor_probes_total{{result=\"{}\"}} {}\n",
                       outcome_label(static_cast<scoring::Outcome>(i)), m.probes[i].load());
  }
  metric(out, "timepool_monitor_probes_unscored_total", "counter",
         "Probes not scored: the own clock was not good, or the request could not be sent.", double(m.probes_unscored.load()));
  metric(out, "timepool_monitor_probes_in_flight", "gauge", "Probes running now.", double(p.in_flight.load()));
  metric(out, "timepool_monitor_packets_sent_total", "counter", "NTP requests sent.", double(p.packets_sent.load()));
  metric(out, "timepool_monitor_send_errors_total", "counter", "Requests that could not be sent.", double(p.send_errors.load()));
  metric(out, "timepool_monitor_replies_total", "counter", "Replies matched to a request.", double(p.replies.load()));
  metric(out, "timepool_monitor_unsolicited_total", "counter",
         "Datagrams dropped: no matching request, wrong source or not a reply.", double(p.unsolicited.load()));
  metric(out, "timepool_monitor_packet_timeouts_total", "counter", "Requests that got no reply in time.", double(p.timeouts.load()));
  metric(out, "timepool_monitor_servers", "gauge", "Servers being probed.", double(m.servers.load()));
  metric(out, "timepool_monitor_probing", "gauge", "1 while probing, 0 while paused or pending.", double(m.probing.load()));
  metric(out, "timepool_monitor_queue_length", "gauge", "Probe results waiting to be written.", double(q.size()));
  double lag = 0;
  if (auto oldest = q.oldest()) {
    lag = std::chrono::duration<double>(std::chrono::system_clock::now() - *oldest).count();
  }
  metric(out, "timepool_monitor_queue_lag_seconds", "gauge",
         "Age of the oldest probe result not yet written.", lag);
  metric(out, "timepool_monitor_queue_dropped_total", "counter",
         "Results dropped because the queue was full.", double(q.dropped()));
  metric(out, "timepool_monitor_batches_total", "counter", "Batches written.", double(m.batches.load()));
  metric(out, "timepool_monitor_batch_errors_total", "counter", "Batch writes that failed.", double(m.batch_errors.load()));
  metric(out, "timepool_monitor_records_written_total", "counter", "Probe results written.", double(m.records_written.load()));
  metric(out, "timepool_monitor_batch_write_seconds_total", "counter", "Time spent writing batches.",
         double(m.batch_write_us_total.load()) / 1e6);
  metric(out, "timepool_monitor_batch_write_seconds_last", "gauge", "Duration of the last batch write.",
         double(m.batch_write_us_last.load()) / 1e6);
  metric(out, "timepool_monitor_database_up", "gauge", "1 while the database connection works.", double(m.db_up.load()));
  metric(out, "timepool_monitor_own_clock_ok", "gauge", "1 while scores may be written.", double(m.clock_ok.load()));
  metric(out, "timepool_monitor_own_clock_trusted", "gauge",
         "1 when scoring only because trust_local_clock is set (the clock is not verified).",
         double(m.clock_trusted.load()));
  return out;
}

}  // namespace timepool::monitor
