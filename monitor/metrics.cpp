#include "monitor/metrics.hpp"

#include <chrono>

#include "core/prometheus.hpp"

namespace timepool::monitor {

std::string_view outcome_label(scoring::Outcome o) {
  switch (o) {
    case scoring::Outcome::kNoResponse: return "timeout";
    case scoring::Outcome::kKissRate: return "kod_rate";
    case scoring::Outcome::kKissDeny: return "kod_deny";
    case scoring::Outcome::kKissRstr: return "kod_rstr";
    case scoring::Outcome::kKissOther: return "kod_other";
    case scoring::Outcome::kError: return "error";
    case scoring::Outcome::kSample: return "ok";
  }
  return "unknown";
}

std::string render_metrics(const Metrics& m, const ProberStats& p, std::size_t pending) {
  prometheus::TextWriter w;
  w.family("timepool_monitor_probes_total", prometheus::Type::kCounter, "Probes finished, by result.");
  for (std::size_t i = 0; i < Metrics::kOutcomes; ++i) {
    w.sample("timepool_monitor_probes_total",
             {{"result", outcome_label(static_cast<scoring::Outcome>(i))}}, m.probes[i].load());
  }
  w.counter("timepool_monitor_probes_unscored_total",
            "Probes not submitted: the own clock was not good, or the request could not be sent.",
            m.probes_unscored.load());
  w.gauge("timepool_monitor_probes_in_flight", "Probes running now.", double(p.in_flight.load()));
  w.counter("timepool_monitor_packets_sent_total", "NTP requests sent.", p.packets_sent.load());
  w.counter("timepool_monitor_send_errors_total", "Requests that could not be sent.", p.send_errors.load());
  w.counter("timepool_monitor_replies_total", "Replies matched to a request.", p.replies.load());
  w.counter("timepool_monitor_unsolicited_total",
            "Datagrams dropped: no matching request, wrong source or not a reply.", p.unsolicited.load());
  w.counter("timepool_monitor_packet_timeouts_total", "Requests that got no reply in time.", p.timeouts.load());
  w.gauge("timepool_monitor_servers", "Servers being probed.", m.servers.load());
  w.gauge("timepool_monitor_probing", "1 while probing, 0 while paused or pending.", int64_t{m.probing.load()});
  w.counter("timepool_monitor_results_submitted_total", "Probe results handed over for sending.",
            m.results_submitted.load());
  w.gauge("timepool_monitor_results_pending", "Results not yet sealed into a batch.", double(pending));
  w.counter("timepool_monitor_batches_sealed_total", "Batches written to the spool.", m.batches_sealed.load());
  w.counter("timepool_monitor_batches_sent_total", "Batches the monitor API acknowledged.",
            m.batches_sent.load());
  w.counter("timepool_monitor_batches_duplicate_total",
            "Batches the API acknowledged as received before (a lost acknowledgement).",
            m.batches_duplicate.load());
  w.counter("timepool_monitor_batches_refused_total",
            "Batches the API refused for good (kept in the spool's rejected/ folder).",
            m.batches_refused.load());
  w.gauge("timepool_monitor_spool_batches", "Batches waiting in the spool for the API.",
          m.spool_batches.load());
  w.gauge("timepool_monitor_spool_bytes", "Size of the batches waiting in the spool.",
          m.spool_bytes.load());
  w.counter("timepool_monitor_spool_dropped_batches_total",
            "Batches deleted unsent, oldest first, because the spool was full "
            "(monitor.spool_max_bytes, monitor.spool_max_batches).",
            m.spool_dropped_batches.load());
  w.counter("timepool_monitor_spool_dropped_results_total",
            "Results lost in batches deleted because the spool was full.",
            m.spool_dropped_results.load());
  w.counter("timepool_monitor_spool_errors_total", "Failed writes to the spool.", m.spool_errors.load());
  w.counter("timepool_monitor_api_errors_total", "Requests to the monitor API that failed.",
            m.api_errors.load());
  w.gauge("timepool_monitor_api_up", "1 while the monitor API answers.", int64_t{m.api_up.load()});
  w.gauge("timepool_monitor_own_clock_ok", "1 while results are submitted.", int64_t{m.clock_ok.load()});
  w.gauge("timepool_monitor_own_clock_trusted",
          "1 when submitting only because trust_local_clock is set (the clock is not verified).",
          int64_t{m.clock_trusted.load()});
  w.gauge("timepool_monitor_reference_ok",
          "1 while the reference servers agree with the own clock, 0 while not (nothing is "
          "submitted), -1 when no reference servers are configured.",
          int64_t{m.reference_ok.load()});
  w.gauge("timepool_monitor_reference_offset_seconds",
          "Median offset of the reference servers from the own clock, last round.",
          m.reference_offset_s.load());
  w.gauge("timepool_monitor_reference_answered", "Reference servers that answered, last round.",
          int64_t{m.reference_answered.load()});
  w.counter("timepool_monitor_reference_rounds_total", "Rounds of reference measurements.",
            m.reference_rounds.load());
  return w.take();
}

}  // namespace timepool::monitor
