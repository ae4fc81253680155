#include "monitor/daemon.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "core/log.hpp"

namespace timepool::monitor {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Probe tags with this bit are reference servers (the low bits: which); server ids are below.
constexpr uint64_t kReferenceTag = uint64_t{1} << 62;

namespace {

uint64_t random_seed() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialization failed");
  uint64_t s;
  randombytes_buf(&s, sizeof s);
  return s;
}

// A batch id prefix of this run: batch ids must never repeat across restarts.
std::string random_prefix() {
  uint8_t b[6];
  randombytes_buf(b, sizeof b);
  char out[2 * sizeof b + 3];
  std::snprintf(out, sizeof out, "m%02x%02x%02x%02x%02x%02x-", b[0], b[1], b[2], b[3], b[4], b[5]);
  return out;
}

// Percent-encoding of a URL query value (RFC 3986 section 2.3: unreserved characters stay).
std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

void warn_trusted_clock() {
  log::get("monitor")->warn(
      "trust_local_clock is set: results are submitted with the clock reported good even when "
      "the kernel says it is not synchronized; use it only where the clock is known to be good");
}

SubmittedPacket to_packet(const PacketSample& s) {
  SubmittedPacket p;
  p.kind = s.kind;
  if (s.kind == PacketSample::Kind::kSendError) {
    p.error = s.error.empty() ? "send failed" : s.error.substr(0, 200);
    return p;
  }
  if (s.kind != PacketSample::Kind::kReply) return p;
  if (!ntp::is_reply(s.reason)) {  // not an answer to us: as if none came
    p.kind = PacketSample::Kind::kTimeout;
    return p;
  }
  p.stratum = s.packet.stratum;
  p.leap = s.packet.leap;
  p.version = s.packet.version;
  p.refid = s.packet.refid;
  switch (s.reason) {
    case ntp::Reason::kOk:
      p.offset_s = s.offset_s;
      // The API takes 0..10 s; a round trip a hair below zero is a rounding artefact.
      p.delay_s = std::clamp(s.delay_s, 0.0, 10.0);
      break;
    case ntp::Reason::kRootDistance: p.rejected = "root_distance"; break;
    case ntp::Reason::kZeroTransmit: p.rejected = "zero_transmit"; break;
    case ntp::Reason::kZeroReceive: p.rejected = "zero_receive"; break;
    default: break;  // kiss-o'-death and unsynchronized: the fields say it
  }
  return p;
}

}  // namespace

SubmittedProbe to_submitted(int64_t server_id, const ProbeResult& r, ntp::TimePoint started,
                            const ClockState& clock) {
  SubmittedProbe p;
  p.server_id = server_id;
  p.started = started;
  p.clock = clock;
  p.packets.reserve(r.packets.size());
  for (const auto& s : r.packets) p.packets.push_back(to_packet(s));
  if (p.packets.empty()) p.packets.push_back(SubmittedPacket{});  // no packet left: a timeout
  return p;
}

Daemon::Daemon(Settings settings, ClockSource clock)
    : settings_(std::move(settings)),
      applied_(reloadable(settings_)),
      clock_(std::move(clock)),
      trust_local_clock_(settings_.trust_local_clock),
      max_clock_error_(settings_.max_clock_error),
      max_in_flight_(settings_.max_in_flight),
      schedule_(std::chrono::milliseconds(540000), settings_.new_server_within,
                settings_.rate_backoff_max, random_seed()) {}

Daemon::~Daemon() {
  stop_.store(true);
  uplink_.reset();
  http_.reset();
}

void Daemon::start() {
  auto log = log::get("monitor");
  spool_ = std::make_unique<Spool>(
      settings_.spool_dir, SpoolLimits{settings_.spool_max_bytes, settings_.spool_max_batches});
  const std::size_t waiting = spool_->list().size();
  if (waiting > 0) log->info("spool {}: {} batches from an earlier run to send", settings_.spool_dir, waiting);
  client_ = std::make_unique<ApiClient>(
      ClientOptions{settings_.url, settings_.ca_file, settings_.key, settings_.request_timeout});

  std::optional<Assignment> first;
  const Reply r = client_->get_assignment();
  if (r.outcome == Outcome::kUnauthorized) {
    throw AuthError("unknown monitor key (register with `timepoolctl monitor add NAME`): " + r.message);
  }
  if (r.outcome == Outcome::kOk) {
    first = parse_assignment(r.body);
    if (first) spool_->save_assignment(r.body);
  }
  if (!first) {
    log->warn("{}: starting from the last saved assignment; results wait in the spool", r.message);
    if (auto saved = spool_->load_assignment()) first = parse_assignment(*saved);
    if (!first) log->warn("no saved assignment: probing starts once the monitor API answers");
  }
  if (first) {
    log->info("monitor {} status {}: {} servers assigned, each every {} ms", first->monitor,
              first->status, first->servers.size(), first->interval.count());
    if (first->status == "pending") {
      log->warn("monitor {} is pending: not probing until an admin sets it to testing or active",
                first->monitor);
    }
    on_assignment(*first);
  }

  if (settings_.trust_local_clock) warn_trusted_clock();
  prober_ = std::make_unique<Prober>(settings_.probe, [this](uint64_t tag, const ProbeResult& res,
                                                             ntp::TimePoint started) {
    on_probe_done(static_cast<int64_t>(tag), res, started);
  });
  UplinkOptions uo;
  uo.batch_max = settings_.batch_max;
  uo.batch_interval = settings_.batch_interval;
  if (first) uo.refresh = first->refresh;
  uo.fetch_at_once = !first;
  uplink_ = std::make_unique<Uplink>(*client_, *spool_, metrics_, random_prefix(), uo,
                                     [this](const Assignment& a) { on_assignment(a); });
  uplink_->start();
  start_metrics();
}

void Daemon::start_metrics() {
  if (!settings_.metrics_listen) return;
  http_ = std::make_unique<prometheus::HttpServer>([this] { return metrics_text(); });
  metrics_port_ = http_->start(*settings_.metrics_listen);
  log::get("monitor")->info("metrics on http://{}/metrics",
                            net::Endpoint(settings_.metrics_listen->address(), metrics_port_).to_string());
}

void Daemon::reload(const Settings& fresh) {
  auto log = log::get("monitor");
  const std::string restart_only = restart_only_changes(settings_, fresh);
  if (!restart_only.empty()) log->warn("{} change only on restart", restart_only);
  const Reloadable r = reloadable(fresh);
  if (r == applied_) {
    log->info("reloaded the configuration (SIGHUP): nothing that can change at run time changed");
    return;
  }
  trust_local_clock_.store(r.trust_local_clock);
  max_clock_error_.store(r.max_clock_error);
  max_in_flight_.store(r.max_in_flight);
  if (uplink_) uplink_->set_batching(r.batch_max, r.batch_interval);
  if (r.trust_local_clock && !applied_.trust_local_clock) warn_trusted_clock();
  applied_ = r;
  log->info("reloaded the configuration (SIGHUP)");
}

std::string Daemon::metrics_text() const {
  static const ProberStats kNone;
  return render_metrics(metrics_, prober_ ? prober_->stats() : kNone,
                        uplink_ ? uplink_->pending() : 0);
}

void Daemon::check_clock() {
  clock_reading_ = clock_();
  auto v = judge_clock(clock_reading_, max_clock_error_.load(), trust_local_clock_.load());
  // The reference servers overrule the kernel (and trust_local_clock): a clock the kernel
  // calls synchronized may still be wrong.
  if (!settings_.reference_servers.empty() && (!ref_verdict_ || !ref_verdict_->ok)) {
    v.ok = false;
    v.trusted = false;
    v.reason = ref_verdict_ ? "reference servers: " + ref_verdict_->reason
                            : "reference servers not measured yet";
  }
  auto log = log::get("monitor");
  if (v.ok != clock_ok_ || v.reason != clock_reason_) {
    if (!v.ok) {
      log->warn("own clock not good ({}): probing continues, no results are submitted", v.reason);
    } else if (v.trusted) {
      log->warn("own clock not verified ({}): submitting anyway because trust_local_clock is set",
                v.reason);
    } else {
      log->info("own clock good: submitting results");
    }
  }
  clock_ok_ = v.ok;
  clock_trusted_ = v.trusted;
  clock_reason_ = v.reason;
  metrics_.clock_ok.store(v.ok ? 1 : 0);
  metrics_.clock_trusted.store(v.trusted ? 1 : 0);
  report_state();
}

void Daemon::start_references(SteadyClock::time_point now) {
  const auto& refs = settings_.reference_servers;
  if (refs.empty() || ref_pending_ > 0 || now < next_ref_) return;
  ref_offsets_.assign(refs.size(), std::nullopt);
  ref_pending_ = refs.size();
  for (std::size_t i = 0; i < refs.size(); ++i) prober_->start(kReferenceTag | i, refs[i]);
  const auto every = settings_.reference_interval.count() > 0 ? settings_.reference_interval
                                                               : schedule_.interval();
  next_ref_ = now + every;
}

void Daemon::on_reference_done(std::size_t i, const ProbeResult& r) {
  if (i >= ref_offsets_.size() || ref_pending_ == 0) return;
  if (r.ok()) ref_offsets_[i] = r.offset_s;
  if (--ref_pending_ > 0) return;
  const auto v = judge_references(ref_offsets_, settings_.reference_max_offset_s);
  auto log = log::get("monitor");
  const bool changed = !ref_verdict_ || ref_verdict_->ok != v.ok;
  if (changed && !v.ok) {
    log->warn("own clock disagrees with the reference servers ({}): probing continues, no "
              "results are submitted", v.reason);
  } else if (changed) {
    log->info("own clock agrees with the reference servers ({} answered, median {:+.3f} ms)",
              v.answered, v.median_s.value_or(0) * 1000);
  }
  log->debug("reference servers: {} answered, median {:+.3f} ms", v.answered,
             v.median_s.value_or(0) * 1000);
  ref_verdict_ = v;
  metrics_.reference_ok.store(v.ok ? 1 : 0);
  metrics_.reference_answered.store(v.answered);
  metrics_.reference_offset_s.store(v.median_s.value_or(0));
  metrics_.reference_rounds.fetch_add(1);
  check_clock();
}

void Daemon::report_state() {
  if (!uplink_) return;
  std::string q = std::string("clock_ok=") + (clock_ok_ ? "1" : "0");
  if (!clock_reason_.empty()) q += "&clock_reason=" + url_encode(clock_reason_);
  if (ref_verdict_ && ref_verdict_->median_s) {
    q += fmt::format("&reference_offset_s={:.6f}", *ref_verdict_->median_s);
  }
  uplink_->set_state(std::move(q));
}

void Daemon::on_probe_done(int64_t id, const ProbeResult& r, ntp::TimePoint started) {
  if ((static_cast<uint64_t>(id) & kReferenceTag) != 0) {
    on_reference_done(static_cast<std::size_t>(static_cast<uint64_t>(id) & ~kReferenceTag), r);
    return;
  }
  const bool rate = r.outcome == scoring::Outcome::kKissRate;
  schedule_.probe_done(id, SteadyClock::now(), rate);
  metrics_.probes[static_cast<std::size_t>(r.outcome)].fetch_add(1);
  auto log = log::get("monitor");
  if (rate) {
    log->info("server={} kod=RATE: backing off to {}x the interval", id, schedule_.backoff(id));
  }
  if (!schedule_.contains(id)) return;  // no longer assigned
  // A monitor whose clock is not good submits nothing; a failure on this side (no route, full
  // socket buffer) is not the server's and is not submitted either.
  if (!clock_ok_ || r.local_failure) {
    metrics_.probes_unscored.fetch_add(1);
    if (r.local_failure) log->debug("server={} not submitted: {}", id, r.error);
    return;
  }
  ClockState clock;
  if (clock_trusted_) {
    clock = {true, 0, 0};  // the operator vouches for this clock (trust_local_clock)
  } else {
    clock = {clock_reading_.synchronized,
             std::chrono::duration<double>(clock_reading_.esterror).count(),
             std::chrono::duration<double>(clock_reading_.maxerror).count()};
  }
  log->debug("server={} {}", id, describe(r));
  metrics_.results_submitted.fetch_add(1);
  uplink_->push(to_submitted(id, r, started, clock));
}

void Daemon::on_assignment(const Assignment& a) {
  std::lock_guard lock(list_mu_);
  new_list_ = a;
}

void Daemon::take_new_list(SteadyClock::time_point now) {
  std::optional<Assignment> list;
  {
    std::lock_guard lock(list_mu_);
    list.swap(new_list_);
  }
  if (!list) return;
  auto log = log::get("monitor");
  monitor_name_ = list->monitor;
  if (list->interval != schedule_.interval()) {
    schedule_.set_interval(list->interval);
    log->info("probing each server every {} ms (the monitor API's interval)", list->interval.count());
  }
  std::vector<ServerRef> servers;
  servers.reserve(list->servers.size());
  // The API's slots are Unix times; the schedule runs on the steady clock.
  const int64_t wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  auto steady = [&](int64_t unix_ms) { return now + std::chrono::milliseconds(unix_ms - wall_ms); };
  for (const auto& s : list->servers) {
    ServerRef ref{s.id, net::Endpoint(s.address, settings_.ntp_port)};
    if (s.cycle_ms > 0) {
      SlotHint h;
      h.cycle = std::chrono::milliseconds(s.cycle_ms);
      h.due = steady(s.due_ms);
      h.recheck_key = s.recheck_due_ms;
      if (s.recheck_due_ms != 0) h.recheck_due = steady(s.recheck_due_ms);
      ref.hint = h;
    }
    servers.push_back(std::move(ref));
  }
  const std::size_t before = schedule_.size();
  schedule_.set_servers(servers, now);
  metrics_.servers.store(static_cast<int64_t>(schedule_.size()));
  if (schedule_.size() != before) log->info("probing {} servers", schedule_.size());
  const bool probing = list->probing();
  if (probing != probing_) {
    if (probing) {
      log->info("monitor {} is {}: probing", list->monitor, list->status);
    } else {
      log->warn("monitor {} is {}: not probing", list->monitor, list->status);
    }
  }
  probing_ = probing;
  metrics_.probing.store(probing ? 1 : 0);
}

void Daemon::start_due(SteadyClock::time_point now) {
  const std::size_t max_in_flight = max_in_flight_.load();
  if (!probing_ || prober_->in_flight() >= max_in_flight) return;
  for (const auto& s : schedule_.take_due(now, max_in_flight - prober_->in_flight())) {
    prober_->start(static_cast<uint64_t>(s.id), s.endpoint);
  }
}

void Daemon::run(std::chrono::milliseconds drain) {
  auto next_clock_check = SteadyClock::now();
  while (!stop_.load()) {
    const auto now = SteadyClock::now();
    take_new_list(now);
    if (now >= next_clock_check) {
      check_clock();
      next_clock_check = now + 1s;
    }
    start_references(now);
    start_due(now);
    auto wait = std::chrono::milliseconds(200);
    if (probing_) {
      if (auto due = schedule_.next_due()) {
        const auto until = std::chrono::ceil<std::chrono::milliseconds>(*due - SteadyClock::now());
        wait = std::clamp(until, std::chrono::milliseconds(0), wait);
      }
    }
    prober_->poll(wait);
  }
  // Everything pending goes to the spool; what the API does not take in `drain` waits there.
  uplink_->stop(drain);
}

}  // namespace timepool::monitor
