#include "monitor/batch.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

namespace timepool::monitor {

using nlohmann::json;

std::string_view code_name(Refusal::Code c) {
  switch (c) {
    case Refusal::Code::kMalformed: return "malformed";
    case Refusal::Code::kUnassigned: return "unassigned";
    case Refusal::Code::kFuture: return "future";
    case Refusal::Code::kTooOld: return "too_old";
  }
  return "malformed";
}

namespace {

Refusal malformed(std::string message) { return {Refusal::Code::kMalformed, std::move(message)}; }

bool valid_batch_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// A finite number field; nullopt when absent or not a finite number.
std::optional<double> number(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> integer(const json& o, const char* key, int64_t lo, int64_t hi) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_integer()) return std::nullopt;
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<uint64_t> timestamp(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

std::optional<std::string> text(const json& o, const char* key, std::size_t max_len) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return std::nullopt;
  auto s = it->get<std::string>();
  if (s.size() > max_len) return std::nullopt;
  return s;
}

std::optional<uint32_t> refid_hex(const std::string& s) {
  if (s.size() != 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  return v;
}

// The rejections a monitor may report for a reply whose fields look fine.
bool known_rejection(const std::string& r) {
  return r.empty() || r == "root_distance" || r == "zero_transmit" || r == "zero_receive";
}

std::variant<SubmittedPacket, std::string> parse_packet(const json& p) {
  if (!p.is_object()) return std::string("a packet is not an object");
  SubmittedPacket out;
  const auto kind = text(p, "kind", 16);
  if (!kind) return std::string("a packet has no kind");
  if (*kind == "timeout") {
    out.kind = PacketSample::Kind::kTimeout;
    return out;
  }
  if (*kind == "send_error") {
    out.kind = PacketSample::Kind::kSendError;
    auto e = text(p, "error", 200);
    if (!e || e->empty()) return std::string("a send_error packet has no error text");
    out.error = *e;
    return out;
  }
  if (*kind != "reply") return "unknown packet kind '" + *kind + "'";
  out.kind = PacketSample::Kind::kReply;
  const auto stratum = integer(p, "stratum", 0, 255);
  const auto leap = integer(p, "leap", 0, 3);
  const auto version = integer(p, "version", 1, 7);
  const auto refid_s = text(p, "refid", 8);
  if (!stratum || !leap || !version || !refid_s)
    return std::string("a reply needs stratum (0-255), leap (0-3), version (1-7) and refid");
  const auto refid = refid_hex(*refid_s);
  if (!refid) return std::string("refid must be 8 hex digits");
  out.stratum = static_cast<int>(*stratum);
  out.leap = static_cast<int>(*leap);
  out.version = static_cast<int>(*version);
  out.refid = *refid;
  if (auto r = text(p, "rejected", 32)) {
    if (!known_rejection(*r)) return "unknown rejection '" + *r + "'";
    out.rejected = *r;
  }
  const auto t1 = timestamp(p, "t1"), t2 = timestamp(p, "t2"), t3 = timestamp(p, "t3"),
             t4 = timestamp(p, "t4");
  const auto offset = number(p, "offset_s"), delay = number(p, "delay_s");
  if (t1 && t2 && t3 && t4) {
    out.offset_s = (ntp::diff_seconds(*t2, *t1) + ntp::diff_seconds(*t3, *t4)) / 2;
    out.delay_s = ntp::diff_seconds(*t4, *t1) - ntp::diff_seconds(*t3, *t2);
  } else if (offset && delay) {
    out.offset_s = *offset;
    out.delay_s = *delay;
  } else if (out.stratum != 0 && out.leap != 3 && out.stratum < 16 && out.rejected.empty()) {
    // A reply that would be a time sample must carry its time.
    return std::string("a reply needs t1..t4 or offset_s and delay_s");
  }
  if (out.delay_s < 0 || out.delay_s > 10 || std::fabs(out.offset_s) > 1e9)
    return std::string("delay must be within 0..10 s and offset within 1e9 s");
  return out;
}

}  // namespace

std::variant<Batch, Refusal> parse_batch(const json& body, const std::set<int64_t>& assigned,
                                         ntp::TimePoint now, const BatchLimits& limits) {
  if (!body.is_object()) return malformed("the body is not a JSON object");
  Batch batch;
  const auto id = text(body, "batch_id", 64);
  if (!id || !valid_batch_id(*id))
    return malformed("batch_id must be 1-64 characters of A-Z a-z 0-9 . _ -");
  batch.batch_id = *id;
  auto results = body.find("results");
  if (results == body.end() || !results->is_array() || results->empty())
    return malformed("results must be a non-empty array");
  if (results->size() > limits.max_probes)
    return malformed("more than " + std::to_string(limits.max_probes) + " results");
  std::size_t index = 0;
  for (const auto& r : *results) {
    const std::string where = "result " + std::to_string(index++) + ": ";
    if (!r.is_object()) return malformed(where + "not an object");
    SubmittedProbe p;
    const auto server = integer(r, "server_id", 1, INT64_MAX);
    if (!server) return malformed(where + "server_id must be a positive integer");
    p.server_id = *server;
    const auto started_us = integer(r, "started_us", 0, INT64_MAX / 1000);
    if (!started_us) return malformed(where + "started_us must be microseconds since 1970");
    p.started = ntp::TimePoint(std::chrono::microseconds(*started_us));
    auto clock = r.find("clock");
    if (clock == r.end() || !clock->is_object()) return malformed(where + "clock is missing");
    auto sync = clock->find("synchronized");
    const auto est = number(*clock, "est_error_s"), max = number(*clock, "max_error_s");
    if (sync == clock->end() || !sync->is_boolean() || !est || !max || *est < 0 || *max < 0)
      return malformed(where + "clock needs synchronized, est_error_s and max_error_s");
    p.clock = {sync->get<bool>(), *est, *max};
    auto packets = r.find("packets");
    if (packets == r.end() || !packets->is_array() || packets->empty() ||
        packets->size() > limits.max_packets)
      return malformed(where + "packets must be an array of 1-" +
                       std::to_string(limits.max_packets));
    for (const auto& pk : *packets) {
      auto parsed = parse_packet(pk);
      if (auto* e = std::get_if<std::string>(&parsed)) return malformed(where + *e);
      p.packets.push_back(std::move(std::get<SubmittedPacket>(parsed)));
    }
    if (!assigned.contains(p.server_id))
      return Refusal{Refusal::Code::kUnassigned,
                     where + "server " + std::to_string(p.server_id) + " is not assigned to you"};
    if (p.started > now + limits.max_future)
      return Refusal{Refusal::Code::kFuture, where + "started_us is in the future"};
    if (p.started < now - limits.max_age)
      return Refusal{Refusal::Code::kTooOld, where + "started_us is too far in the past"};
    batch.probes.push_back(std::move(p));
  }
  return batch;
}

json to_json(const Batch& batch) {
  json results = json::array();
  for (const auto& p : batch.probes) {
    json packets = json::array();
    for (const auto& pk : p.packets) {
      switch (pk.kind) {
        case PacketSample::Kind::kTimeout: packets.push_back({{"kind", "timeout"}}); break;
        case PacketSample::Kind::kSendError:
          packets.push_back({{"kind", "send_error"}, {"error", pk.error}});
          break;
        case PacketSample::Kind::kReply: {
          char refid[9];
          std::snprintf(refid, sizeof refid, "%08x", pk.refid);
          json o = {{"kind", "reply"},       {"stratum", pk.stratum}, {"leap", pk.leap},
                    {"version", pk.version}, {"refid", refid},        {"offset_s", pk.offset_s},
                    {"delay_s", pk.delay_s}};
          if (!pk.rejected.empty()) o["rejected"] = pk.rejected;
          packets.push_back(std::move(o));
          break;
        }
      }
    }
    results.push_back(
        {{"server_id", p.server_id},
         {"started_us", std::chrono::duration_cast<std::chrono::microseconds>(
                            p.started.time_since_epoch()).count()},
         {"clock",
          {{"synchronized", p.clock.synchronized},
           {"est_error_s", p.clock.est_error_s},
           {"max_error_s", p.clock.max_error_s}}},
         {"packets", std::move(packets)}});
  }
  return {{"batch_id", batch.batch_id}, {"results", std::move(results)}};
}

namespace {

// The sample the central side sees in a submitted packet: its reason is derived again from the
// reply's own fields first, so a monitor cannot call a kiss-o'-death or an unsynchronized reply
// a good sample.
PacketSample to_sample(const SubmittedPacket& pk) {
  PacketSample s;
  s.kind = pk.kind;
  s.error = pk.error;
  if (pk.kind != PacketSample::Kind::kReply) return s;
  s.packet.stratum = static_cast<uint8_t>(pk.stratum);
  s.packet.leap = static_cast<uint8_t>(pk.leap);
  s.packet.version = static_cast<uint8_t>(pk.version);
  s.packet.refid = pk.refid;
  s.packet.mode = ntp::Mode::kServer;
  if (pk.stratum == 0) {
    s.reason = ntp::Reason::kKissOfDeath;
    s.kiss = ntp::classify_kiss(s.packet);
  } else if (pk.leap == 3 || pk.stratum >= 16) {
    s.reason = ntp::Reason::kUnsynchronized;
  } else if (pk.rejected == "root_distance") {
    s.reason = ntp::Reason::kRootDistance;
  } else if (pk.rejected == "zero_transmit") {
    s.reason = ntp::Reason::kZeroTransmit;
  } else if (pk.rejected == "zero_receive") {
    s.reason = ntp::Reason::kZeroReceive;
  } else {
    s.reason = ntp::Reason::kOk;
    s.offset_s = pk.offset_s;
    s.delay_s = pk.delay_s;
  }
  return s;
}

}  // namespace

ScoredProbe score_submitted(const SubmittedProbe& p, double previous, double max_clock_error_s) {
  std::vector<PacketSample> samples;
  samples.reserve(p.packets.size());
  for (const auto& pk : p.packets) samples.push_back(to_sample(pk));
  const ProbeResult result = choose_best(samples);
  const bool clock_ok = p.clock.synchronized && p.clock.max_error_s <= max_clock_error_s;
  return score_probe(p.server_id, result, p.started, previous, clock_ok);
}

}  // namespace timepool::monitor
