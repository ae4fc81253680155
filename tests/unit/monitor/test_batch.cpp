// monitor/batch: validation of a submitted batch and the central scoring of raw results.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "monitor/batch.hpp"

using namespace timepool;
using namespace timepool::monitor;
using nlohmann::json;

namespace {

const ntp::TimePoint kNow{std::chrono::seconds(1700000000)};
const std::set<int64_t> kAssigned{7, 8};

json good_reply(double offset = 0.002) {
  return {{"kind", "reply"}, {"stratum", 2},        {"leap", 0},        {"version", 4},
          {"refid", "7f000001"}, {"offset_s", offset}, {"delay_s", 0.01}};
}

json result(int64_t server, json packets, int64_t started_us = 1699999990000000) {
  return {{"server_id", server},
          {"started_us", started_us},
          {"clock", {{"synchronized", true}, {"est_error_s", 0.0001}, {"max_error_s", 0.002}}},
          {"packets", std::move(packets)}};
}

json batch(json results) { return {{"batch_id", "m1-000001"}, {"results", std::move(results)}}; }

Refusal refused(const json& body) {
  auto r = parse_batch(body, kAssigned, kNow);
  REQUIRE(std::holds_alternative<Refusal>(r));
  return std::get<Refusal>(r);
}

Batch accepted(const json& body) {
  auto r = parse_batch(body, kAssigned, kNow);
  if (auto* f = std::get_if<Refusal>(&r)) FAIL(f->message);
  return std::get<Batch>(r);
}

}  // namespace

TEST_CASE("batch: a well-formed batch is read back field by field", "[batch]") {
  const auto b = accepted(batch({result(7, {good_reply(), {{"kind", "timeout"}}}),
                                 result(8, {{{"kind", "send_error"}, {"error", "unreachable"}}})}));
  CHECK(b.batch_id == "m1-000001");
  REQUIRE(b.probes.size() == 2);
  CHECK(b.probes[0].server_id == 7);
  CHECK(b.probes[0].started.time_since_epoch() == std::chrono::microseconds(1699999990000000));
  CHECK(b.probes[0].clock.synchronized);
  CHECK(b.probes[0].clock.max_error_s == 0.002);
  REQUIRE(b.probes[0].packets.size() == 2);
  CHECK(b.probes[0].packets[0].refid == 0x7f000001);
  CHECK(b.probes[0].packets[0].offset_s == 0.002);
  CHECK(b.probes[0].packets[1].kind == PacketSample::Kind::kTimeout);
  CHECK(b.probes[1].packets[0].error == "unreachable");
  // What a monitor sends (to_json) is what the API reads.
  const auto again = accepted(to_json(b));
  CHECK(to_json(again) == to_json(b));
}

TEST_CASE("batch: the four timestamps give offset and delay", "[batch]") {
  // t1 = 0, t2 = t3 = 1.010 s, t4 = 0.020 s: delay 20 ms, offset +1 s.
  const uint64_t s = 1ull << 32;
  const uint64_t ms10 = s / 100;
  json pk = {{"kind", "reply"}, {"stratum", 1}, {"leap", 0}, {"version", 4},
             {"refid", "47505300"}, {"t1", 1000 * s}, {"t2", 1001 * s + ms10},
             {"t3", 1001 * s + ms10}, {"t4", 1000 * s + 2 * ms10}};
  const auto b = accepted(batch({result(7, {pk})}));
  CHECK(b.probes[0].packets[0].delay_s == Approx(0.02).margin(1e-9));
  CHECK(b.probes[0].packets[0].offset_s == Approx(1.0).margin(1e-9));
}

TEST_CASE("batch: malformed batches are refused with a reason", "[batch]") {
  CHECK(refused(json::array()).code == Refusal::Code::kMalformed);
  auto no_id = batch({result(7, {good_reply()})});
  no_id.erase("batch_id");
  CHECK(refused(no_id).message.find("batch_id") != std::string::npos);
  auto bad_id = batch({result(7, {good_reply()})});
  bad_id["batch_id"] = "a b";
  CHECK(refused(bad_id).code == Refusal::Code::kMalformed);
  CHECK(refused(batch(json::array())).message.find("results") != std::string::npos);
  CHECK(refused(batch({result(7, json::array())})).message.find("packets") != std::string::npos);
  auto no_time = good_reply();
  no_time.erase("offset_s");
  CHECK(refused(batch({result(7, {no_time})})).message.find("t1..t4") != std::string::npos);
  auto bad_refid = good_reply();
  bad_refid["refid"] = "RATE";
  CHECK(refused(batch({result(7, {bad_refid})})).message.find("refid") != std::string::npos);
  auto negative_delay = good_reply();
  negative_delay["delay_s"] = -1;
  CHECK(refused(batch({result(7, {negative_delay})})).code == Refusal::Code::kMalformed);
  auto no_clock = result(7, {good_reply()});
  no_clock.erase("clock");
  CHECK(refused(batch({no_clock})).message.find("clock") != std::string::npos);
  CHECK(refused(batch({result(7, {{{"kind", "bogus"}}})})).message.find("bogus") !=
        std::string::npos);
  // The index of the offending result is named.
  CHECK(refused(batch({result(7, {good_reply()}), result(-3, {good_reply()})})).message.find(
            "result 1") != std::string::npos);
}

TEST_CASE("batch: unassigned servers, future and old results refuse the whole batch", "[batch]") {
  const auto u = refused(batch({result(7, {good_reply()}), result(9, {good_reply()})}));
  CHECK(u.code == Refusal::Code::kUnassigned);
  CHECK(u.message.find("server 9") != std::string::npos);
  CHECK(code_name(u.code) == "unassigned");
  const int64_t now_us = 1700000000000000;
  CHECK(refused(batch({result(7, {good_reply()}), result(8, {good_reply()}, now_us + 61000000)}))
            .code == Refusal::Code::kFuture);
  // Within the allowed skew it is accepted.
  accepted(batch({result(8, {good_reply()}, now_us + 59000000)}));
  CHECK(refused(batch({result(8, {good_reply()}, now_us - 86401000000)})).code ==
        Refusal::Code::kTooOld);
}

TEST_CASE("central scoring: the step table and the decay from raw samples", "[batch]") {
  const auto b = accepted(batch({result(7, {{{"kind", "timeout"}}, good_reply(0.001)})}));
  const auto s = score_submitted(b.probes[0], 10);
  REQUIRE(s.scored());
  CHECK(s.step.step == 1);
  CHECK(s.score == Approx(0.95 * 10 + 1));
  CHECK(s.record.offset_s == 0.001);
  CHECK(s.record.rtt_s == 0.01);
  // 200 ms off: -2.308*0.2 + 0.731.
  const auto off = accepted(batch({result(7, {good_reply(0.2)})}));
  CHECK(score_submitted(off.probes[0], 0).step.step == Approx(-2.308 * 0.2 + 0.731));
  // Only timeouts: -5.
  const auto silent = accepted(batch({result(7, {{{"kind", "timeout"}}, {{"kind", "timeout"}}})}));
  CHECK(score_submitted(silent.probes[0], 0).score == -5);
}

TEST_CASE("central scoring: a monitor cannot dress a kiss-o'-death as a sample", "[batch]") {
  // Stratum 0 refid DENY with a perfect offset: still DENY (-10, capped at -50).
  auto deny = good_reply(0);
  deny["stratum"] = 0;
  deny["refid"] = "44454e59";
  const auto b = accepted(batch({result(7, {deny})}));
  const auto s = score_submitted(b.probes[0], 20);
  CHECK(s.step.step == -10);
  CHECK(s.score == -50);
  // Leap 3 with a perfect offset: unsynchronized, "other error" (-4).
  auto unsync = good_reply(0);
  unsync["leap"] = 3;
  const auto u = accepted(batch({result(7, {unsync})}));
  CHECK(score_submitted(u.probes[0], 0).step.step == -4);
}

TEST_CASE("central scoring: every kiss code is scored as the NTP Pool scores it", "[batch]") {
  // The NTP Pool's monitor (github.com/ntppool/monitor):
  // - client/monitor/monitor.go, CheckHost: "if resp.Stratum == 0 || resp.Stratum == 16 { if
  //   len(resp.KissCode) > 0 { return status, resp, fmt.Errorf("%s", resp.KissCode) } ...
  //   fmt.Errorf("bad stratum %d (referenceID: %s)", ...)": a stratum-0 reply ends the probe
  //   with the kiss code as its error, or "bad stratum 0 (...)" when the refid is not four
  //   printable characters (beevik/ntp kissCode);
  // - scorer/statusscore/statusscore.go, calc: Stratum 0 and Error "RATE" -3.5; "RSTR" or
  //   "DENY" -10 with MaxScore -50; Error "" (or "untrusted zero offset") -2 with MaxScore 5;
  //   any other error -4 with no MaxScore.
  // So every code but RATE, DENY and RSTR (RFC 5905 section 7.4 lists them) takes -4, uncapped.
  struct Case {
    const char* code;
    const char* refid;
    double step;
    std::optional<double> cap;
  };
  const Case cases[] = {
      {"RATE", "52415445", -3.5, std::nullopt}, {"DENY", "44454e59", -10, -50},
      {"RSTR", "52535452", -10, -50},           {"ACST", "41435354", -4, std::nullopt},
      {"AUTH", "41555448", -4, std::nullopt},   {"AUTO", "4155544f", -4, std::nullopt},
      {"BCST", "42435354", -4, std::nullopt},   {"CRYP", "43525950", -4, std::nullopt},
      {"DROP", "44524f50", -4, std::nullopt},   {"INIT", "494e4954", -4, std::nullopt},
      {"MCST", "4d435354", -4, std::nullopt},   {"NKEY", "4e4b4559", -4, std::nullopt},
      {"RMOT", "524d4f54", -4, std::nullopt},   {"STEP", "53544550", -4, std::nullopt},
      {"XFAC", "58464143", -4, std::nullopt},   // a code no RFC names
      {"no code", "00000000", -4, std::nullopt}, {"no code", "7f000001", -4, std::nullopt},
  };
  for (const auto& c : cases) {
    INFO(c.code << " refid " << c.refid);
    auto r = good_reply(0);  // a perfect offset: a kiss-o'-death is never a time sample
    r["stratum"] = 0;
    r["leap"] = 3;
    r["refid"] = c.refid;
    const auto b = accepted(batch({result(7, {r})}));
    const auto s = score_submitted(b.probes[0], 20);
    REQUIRE(s.scored());
    CHECK(s.step.step == c.step);
    CHECK(s.step.cap == c.cap);
    CHECK(s.score == Approx(c.cap ? std::min(*c.cap, 0.95 * 20 + c.step) : 0.95 * 20 + c.step));
  }
}

TEST_CASE("central scoring: nothing is scored when the monitor's clock is not good", "[batch]") {
  auto r = result(7, {good_reply()});
  r["clock"]["max_error_s"] = 0.5;  // synchronized, but the maximum error is too large
  const auto b = accepted(batch({r}));
  const auto s = score_submitted(b.probes[0], 7);
  CHECK_FALSE(s.scored());
  CHECK(s.unscored == Unscored::kOwnClock);
  CHECK(s.score == 7);
  r["clock"]["max_error_s"] = 0.002;
  r["clock"]["synchronized"] = false;
  CHECK_FALSE(score_submitted(accepted(batch({r})).probes[0], 7).scored());
}
