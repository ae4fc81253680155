// Monitor benchmark: the probe loop the daemon runs (Schedule + Prober + the raw result as it
// is submitted, sealed into batches of JSON), against a local NTP responder on loopback. The
// spool's disk write and the API are not included.
//
//   bench_monitor burst  [--in-flight N] [--seconds T]
//       as many probes as possible (3 packets 1 ms apart, N probes in flight): probes/s.
//   bench_monitor steady [--servers N] [--interval-s S] [--seconds T]
//       N servers on an S-second cycle with the real timings (3 packets 2 s apart, 3 s
//       timeout): CPU share of the probe thread and memory per 10,000 servers.
// The responder runs on its own thread; its CPU is not counted in the probe loop's figures.
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "monitor/batch.hpp"
#include "monitor/daemon.hpp"
#include "monitor/probe_score.hpp"
#include "monitor/prober.hpp"
#include "monitor/schedule.hpp"
#include "tests/support/fake_ntp_server.hpp"

using namespace timepool;
using namespace timepool::monitor;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

long arg(int argc, char** argv, const char* name, long def) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
  }
  return def;
}

// What the daemon does with each result: the raw result it submits, sealed into batches of
// JSON (the uplink's part, minus the disk and the network).
struct Scorer {
  Batch batch;
  uint64_t ok = 0, failed = 0, sealed_bytes = 0;
  void operator()(int64_t id, const ProbeResult& r, ntp::TimePoint started) {
    (r.ok() ? ok : failed)++;
    batch.probes.push_back(to_submitted(id, r, started, ClockState{true, 0.0001, 0.001}));
    if (batch.probes.size() >= 2000) {
      batch.batch_id = "bench-" + std::to_string(ok + failed);
      sealed_bytes += to_json(batch).dump().size();
      batch.probes.clear();
    }
  }
};

int burst(long in_flight, long seconds) {
  test::FakeNtpServer responder(test::FakeNtpServer::Behaviour::kGood);
  ProbeOptions o;
  o.spacing = 1ms;
  o.timeout = 1000ms;
  Scorer scorer;
  const net::Endpoint ep = responder.endpoint();
  int64_t next_id = 0;
  Prober* self = nullptr;
  Prober prober(o, [&](uint64_t tag, const ProbeResult& r, ntp::TimePoint t) {
    scorer(static_cast<int64_t>(tag), r, t);
    self->start(static_cast<uint64_t>(next_id++ % 10000), ep);  // keep the pipe full
  });
  self = &prober;
  for (long i = 0; i < in_flight; ++i) prober.start(static_cast<uint64_t>(next_id++ % 10000), ep);
  const auto t0 = SteadyClock::now();
  const double cpu0 = thread_cpu_s();
  while (SteadyClock::now() - t0 < std::chrono::seconds(seconds)) prober.poll(100ms);
  const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double cpu = thread_cpu_s() - cpu0;
  const double probes = static_cast<double>(scorer.ok + scorer.failed);
  std::printf("burst: %ld in flight, %.1f s: %.0f probes/s (%.0f packets/s), %llu failed, "
              "probe thread CPU %.0f%% of a core, %.1f us CPU per probe\n",
              in_flight, wall, probes / wall, static_cast<double>(prober.stats().packets_sent) / wall,
              static_cast<unsigned long long>(scorer.failed), 100 * cpu / wall, 1e6 * cpu / probes);
  return 0;
}

int steady(long servers, long interval_s, long seconds) {
  test::FakeNtpServer responder(test::FakeNtpServer::Behaviour::kGood);
  const long rss0 = rss_kib();
  ProbeOptions o;  // the real timings: 3 packets 2 s apart, 3 s timeout
  Scorer scorer;
  Schedule schedule(std::chrono::seconds(interval_s), 60s, 16, 12345);
  const net::Endpoint ep = responder.endpoint();
  std::vector<ServerRef> list;
  list.reserve(static_cast<std::size_t>(servers));
  for (long i = 0; i < servers; ++i) list.push_back(ServerRef{i, ep});
  schedule.set_servers(list, SteadyClock::now());
  list.clear();
  list.shrink_to_fit();
  Prober prober(o, [&](uint64_t tag, const ProbeResult& r, ntp::TimePoint t) {
    schedule.probe_done(static_cast<int64_t>(tag), SteadyClock::now(), false);
    scorer(static_cast<int64_t>(tag), r, t);
  });
  const auto t0 = SteadyClock::now();
  const double cpu0 = thread_cpu_s();
  long max_rss = 0;
  auto next_rss = t0;
  while (SteadyClock::now() - t0 < std::chrono::seconds(seconds)) {
    const auto now = SteadyClock::now();
    for (const auto& s : schedule.take_due(now, 20000)) prober.start(static_cast<uint64_t>(s.id), s.endpoint);
    auto wait = 200ms;
    if (auto due = schedule.next_due()) {
      wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(*due - SteadyClock::now()), 0ms, wait);
    }
    prober.poll(wait);
    if (SteadyClock::now() >= next_rss) {  // not every turn: reading /proc costs CPU too
      max_rss = std::max(max_rss, rss_kib());
      next_rss += 1s;
    }
  }
  const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double cpu = thread_cpu_s() - cpu0;
  const double probes = static_cast<double>(scorer.ok + scorer.failed);
  std::printf("steady: %ld servers every %ld s, %.0f s: %.1f probes/s (%.1f packets/s), %llu failed, "
              "probe thread CPU %.2f%% of a core; RSS %.1f MiB over the base, %.2f MiB per 10,000 servers\n",
              servers, interval_s, wall, probes / wall,
              static_cast<double>(prober.stats().packets_sent) / wall,
              static_cast<unsigned long long>(scorer.failed), 100 * cpu / wall,
              static_cast<double>(max_rss - rss0) / 1024,
              static_cast<double>(max_rss - rss0) / 1024 * 10000 / static_cast<double>(servers));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "burst") return burst(arg(argc, argv, "--in-flight", 2000), arg(argc, argv, "--seconds", 5));
  if (mode == "steady") {
    return steady(arg(argc, argv, "--servers", 50000), arg(argc, argv, "--interval-s", 540),
                  arg(argc, argv, "--seconds", 60));
  }
  std::fprintf(stderr,
               "usage: bench_monitor burst [--in-flight N] [--seconds T]\n"
               "       bench_monitor steady [--servers N] [--interval-s S] [--seconds T]\n");
  return 2;
}
