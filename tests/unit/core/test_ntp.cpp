#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "core/ntp.hpp"
#include "tests/support/seed.hpp"

using namespace timepool::ntp;
using std::chrono::nanoseconds;
using std::chrono::seconds;

namespace {

TimePoint unix_time(int64_t sec, int64_t nsec = 0) {
  return TimePoint(nanoseconds(sec * 1000000000LL + nsec));
}

// 2036-02-07 06:28:16 UTC: NTP era 1 begins (seconds field wraps to 0).
constexpr int64_t kEra1Unix = 4294967296LL - kNtpUnixOffset;

uint32_t refid(const char (&code)[5]) {
  return (uint32_t(uint8_t(code[0])) << 24) | (uint32_t(uint8_t(code[1])) << 16) |
         (uint32_t(uint8_t(code[2])) << 8) | uint32_t(uint8_t(code[3]));
}

// A valid server reply to `req`.
Packet good_reply(const Request& req) {
  Packet p;
  p.leap = 0;
  p.version = req.version;
  p.mode = Mode::kServer;
  p.stratum = 2;
  p.poll = 6;
  p.precision = -20;
  p.root_delay = 0x00000100;
  p.root_dispersion = 0x00000200;
  p.refid = 0x7f000001;
  p.reference = 0xe0000000'00000000ULL;
  p.origin = req.transmit;
  p.receive = 0xe1000000'10000000ULL;
  p.transmit = 0xe1000000'20000000ULL;
  return p;
}

std::vector<uint8_t> bytes_of(const Packet& p, std::size_t extra = 0) {
  auto h = encode(p);
  std::vector<uint8_t> v(h.begin(), h.end());
  v.resize(v.size() + extra, 0);
  return v;
}

}  // namespace

TEST_CASE("header fields sit at their RFC 5905 offsets", "[ntp]") {
  Packet p;
  p.leap = 3;
  p.version = 4;
  p.mode = Mode::kServer;
  p.stratum = 0x0f;
  p.poll = -6;
  p.precision = -23;
  p.root_delay = 0x01020304;
  p.root_dispersion = 0x05060708;
  p.refid = 0x494e4954;  // "INIT"
  p.reference = 0x1112131415161718ULL;
  p.origin = 0x2122232425262728ULL;
  p.receive = 0x3132333435363738ULL;
  p.transmit = 0x4142434445464748ULL;
  auto b = encode(p);
  CHECK(b[0] == ((3 << 6) | (4 << 3) | 4));
  CHECK(b[1] == 0x0f);
  CHECK(int8_t(b[2]) == -6);
  CHECK(int8_t(b[3]) == -23);
  CHECK(b[4] == 0x01);
  CHECK(b[7] == 0x04);
  CHECK(b[8] == 0x05);
  CHECK(b[12] == 'I');
  CHECK(b[15] == 'T');
  CHECK(b[16] == 0x11);
  CHECK(b[23] == 0x18);
  CHECK(b[24] == 0x21);
  CHECK(b[32] == 0x31);
  CHECK(b[40] == 0x41);
  CHECK(b[47] == 0x48);
  auto back = decode(b);
  REQUIRE(back);
  CHECK(*back == p);
}

TEST_CASE("codec round trip over random headers", "[ntp]") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 1000; ++i) {
    std::array<uint8_t, kHeaderSize> raw;
    for (auto& x : raw) x = static_cast<uint8_t>(rng());
    auto p = decode(raw);
    REQUIRE(p);
    CHECK(encode(*p) == raw);
  }
}

TEST_CASE("decode refuses fewer than 48 bytes and ignores what follows", "[ntp]") {
  std::vector<uint8_t> b(47, 0);
  CHECK_FALSE(decode(b));
  b.resize(48 + 20, 0xff);
  CHECK(decode(b));
}

TEST_CASE("make_request is a mode 3 packet carrying only the transmit timestamp", "[ntp]") {
  auto b = make_request(0x0123456789abcdefULL, 4);
  auto p = decode(b);
  REQUIRE(p);
  CHECK(p->mode == Mode::kClient);
  CHECK(p->version == 4);
  CHECK(p->leap == 0);
  CHECK(p->transmit == 0x0123456789abcdefULL);
  CHECK(p->origin == 0);
  CHECK(p->receive == 0);
  CHECK(p->reference == 0);
  CHECK(decode(make_request(1, 3))->version == 3);
}

TEST_CASE("NTP and Unix time", "[ntp][time]") {
  SECTION("the Unix epoch is NTP second 2208988800") {
    CHECK(to_ntp(unix_time(0)) == (uint64_t(kNtpUnixOffset) << 32));
  }
  SECTION("fractions") {
    CHECK(to_ntp(unix_time(0, 500000000)) == ((uint64_t(kNtpUnixOffset) << 32) | 0x80000000u));
    CHECK(from_ntp((uint64_t(kNtpUnixOffset) << 32) | 0x40000000u, unix_time(0)) ==
          unix_time(0, 250000000));
  }
  SECTION("nanosecond round trip") {
    const uint32_t seed = timepool::test::random_seed();
    INFO(timepool::test::seed_note(seed));
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 1000; ++i) {
      const int64_t sec = static_cast<int64_t>(rng() % 4000000000ULL);  // 1970 .. 2096
      const int64_t ns = static_cast<int64_t>(rng() % 1000000000ULL);
      const auto t = unix_time(sec, ns);
      CHECK(from_ntp(to_ntp(t), t) == t);
      // A pivot decades away still resolves the same era.
      CHECK(from_ntp(to_ntp(t), t + seconds(60LL * 365 * 86400)) == t);
      CHECK(from_ntp(to_ntp(t), t - seconds(60LL * 365 * 86400)) == t);
    }
  }
}

TEST_CASE("2036 era boundary", "[ntp][time][era]") {
  const auto before = unix_time(kEra1Unix - 1, 500000000);
  const auto at = unix_time(kEra1Unix);
  const auto after = unix_time(kEra1Unix + 1, 250000000);
  SECTION("era 1 starts with seconds field 0") {
    CHECK(to_ntp(at) == 0);
    CHECK(to_ntp(before) == ((uint64_t(0xffffffffu) << 32) | 0x80000000u));
    CHECK(to_ntp(after) == ((uint64_t(1) << 32) | 0x40000000u));
  }
  SECTION("a small timestamp read near 2036 is era 1, not 1900") {
    CHECK(from_ntp(to_ntp(after), before) == after);
    CHECK(from_ntp(to_ntp(before), after) == before);
    CHECK(from_ntp(0, unix_time(kEra1Unix - 10)) == at);
    // Read in 1990 it is still nearer 2036 than 1900; read in 1920 it is 1900-era time.
    CHECK(from_ntp(to_ntp(after), unix_time(631152000)) == after);
    CHECK(from_ntp(to_ntp(after), unix_time(-1577923200)) ==
          unix_time(kEra1Unix + 1 - 4294967296LL, 250000000));
  }
  SECTION("offset and delay across the boundary") {
    // Client sends at era0 end -0.5 s, server receives/sends at era1 +0.25/+0.30 s,
    // client receives at era1 +0.10 s (server is 0.5 s ahead).
    const uint64_t t1 = to_ntp(unix_time(kEra1Unix - 1, 500000000));
    const uint64_t t2 = to_ntp(unix_time(kEra1Unix, 250000000));
    const uint64_t t3 = to_ntp(unix_time(kEra1Unix, 300000000));
    const uint64_t t4 = to_ntp(unix_time(kEra1Unix, 100000000));
    const auto od = offset_delay(t1, t2, t3, t4);
    CHECK(od.offset_s == Approx(0.475).margin(1e-9));
    CHECK(od.delay_s == Approx(0.55).margin(1e-9));
    CHECK(diff_seconds(t2, t1) == Approx(0.75).margin(1e-9));
    CHECK(diff_seconds(t1, t2) == Approx(-0.75).margin(1e-9));
  }
}

TEST_CASE("offset and delay from the four timestamps (RFC 5905 section 8)", "[ntp]") {
  const auto base = unix_time(1700000000);
  auto ts = [&](int64_t ms) { return to_ntp(base + std::chrono::milliseconds(ms)); };
  SECTION("symmetric path, server 100 ms ahead") {
    // t1=0, path 10 ms each way, server clock +100 ms, 2 ms processing.
    const auto od = offset_delay(ts(0), ts(110), ts(112), ts(22));
    CHECK(od.offset_s == Approx(0.100).margin(1e-6));
    CHECK(od.delay_s == Approx(0.020).margin(1e-6));
  }
  SECTION("server behind") {
    const auto od = offset_delay(ts(0), ts(-2990), ts(-2989), ts(21));
    CHECK(od.offset_s == Approx(-3.0).margin(1e-6));
    CHECK(od.delay_s == Approx(0.020).margin(1e-6));
  }
}

TEST_CASE("short format", "[ntp]") {
  CHECK(short_to_seconds(0x00010000) == 1.0);
  CHECK(short_to_seconds(0x00008000) == 0.5);
}

TEST_CASE("kiss codes", "[ntp][kiss]") {
  Packet p;
  p.stratum = 0;
  p.refid = refid("RATE");
  CHECK(classify_kiss(p) == Kiss::kRate);
  CHECK(kiss_code(p.refid) == "RATE");
  p.refid = refid("DENY");
  CHECK(classify_kiss(p) == Kiss::kDeny);
  p.refid = refid("RSTR");
  CHECK(classify_kiss(p) == Kiss::kRstr);
  for (const char* other : {"INIT", "STEP", "AUTH", "AUTO", "BCST", "CRYP", "DROP", "MCST",
                            "NKEY", "RMOT", "ACST"}) {
    char c[5] = {};
    std::memcpy(c, other, 4);
    p.refid = refid(c);
    INFO(other);
    CHECK(classify_kiss(p) == Kiss::kOther);
    CHECK(kiss_code(p.refid) == other);
  }
  p.refid = 0x01020300;
  CHECK(classify_kiss(p) == Kiss::kOther);
  CHECK(kiss_code(p.refid) == "???");
  p.refid = refid("RATE");
  p.stratum = 1;
  CHECK(classify_kiss(p) == Kiss::kNone);
  CHECK(refid_text(p) == "RATE");
  p.stratum = 3;
  p.refid = 0xc0000207;
  CHECK(refid_text(p) == "192.0.2.7");
}

TEST_CASE("check_reply accepts a good reply", "[ntp][validate]") {
  const Request req{0x8badf00d12345678ULL, 4};
  const auto b = bytes_of(good_reply(req));
  const auto v = check_reply(b, req);
  CHECK(v.reason == Reason::kOk);
  CHECK(v.checks.text() == "1111|1111");
  CHECK(is_reply(v.reason));
  CHECK(v.kiss == Kiss::kNone);
}

TEST_CASE("check_reply length policy", "[ntp][validate]") {
  const Request req{42, 4};
  const auto p = good_reply(req);
  SECTION("every truncated length is short") {
    for (std::size_t n = 0; n < kHeaderSize; ++n) {
      auto b = bytes_of(p);
      b.resize(n);
      INFO(n);
      CHECK(check_reply(b, req).reason == Reason::kShort);
      CHECK_FALSE(is_reply(check_reply(b, req).reason));
    }
  }
  SECTION("extension fields and MACs are allowed") {
    CHECK(check_reply(bytes_of(p, 20), req).reason == Reason::kOk);   // key id + MD5
    CHECK(check_reply(bytes_of(p, 24), req).reason == Reason::kOk);   // key id + SHA-1
    CHECK(check_reply(bytes_of(p, kMaxPacketSize - kHeaderSize), req).reason == Reason::kOk);
  }
  SECTION("oversized") {
    CHECK(check_reply(bytes_of(p, kMaxPacketSize - kHeaderSize + 4), req).reason ==
          Reason::kOversized);
    CHECK(check_length(65507) == Reason::kOversized);
  }
  SECTION("not whole 32-bit words") {
    CHECK(check_reply(bytes_of(p, 1), req).reason == Reason::kBadLength);
    CHECK(check_reply(bytes_of(p, 22), req).reason == Reason::kBadLength);
  }
}

TEST_CASE("check_reply refuses what is not a reply to our request", "[ntp][validate]") {
  const Request req{0x1111222233334444ULL, 4};
  Packet p = good_reply(req);
  auto verdict = [&] { return check_reply(bytes_of(p), req); };

  SECTION("wrong mode") {
    for (Mode m : {Mode::kClient, Mode::kSymmetricActive, Mode::kBroadcast, Mode::kControl}) {
      p.mode = m;
      CHECK(verdict().reason == Reason::kWrongMode);
      CHECK_FALSE(is_reply(verdict().reason));
    }
  }
  SECTION("an NTPv3 server's reply to our v4 request is taken, older and newer ones are not") {
    p.version = 3;
    CHECK(verdict().reason == Reason::kOk);
    CHECK(verdict().checks.version);
    CHECK(check_reply(bytes_of(p), Request{req.transmit, 3}).reason == Reason::kOk);
    for (uint8_t v : {0, 1, 2, 5, 6, 7}) {
      p.version = v;
      CHECK(verdict().reason == Reason::kWrongVersion);
      CHECK_FALSE(is_reply(verdict().reason));
    }
    p.version = 4;
    CHECK(check_reply(bytes_of(p), Request{req.transmit, 3}).reason == Reason::kWrongVersion);
  }
  SECTION("origin mismatch") {
    p.origin ^= 1;
    CHECK(verdict().reason == Reason::kOriginMismatch);
    CHECK_FALSE(is_reply(verdict().reason));
    CHECK(verdict().checks.text() == "1110|1111");
  }
}

TEST_CASE("check_reply rejection reasons", "[ntp][validate]") {
  const Request req{0x1111222233334444ULL, 4};
  Packet p = good_reply(req);
  auto verdict = [&] { return check_reply(bytes_of(p), req); };

  SECTION("zero transmit") {
    p.transmit = 0;
    CHECK(verdict().reason == Reason::kZeroTransmit);
    CHECK(is_reply(verdict().reason));
  }
  SECTION("zero receive") {
    p.receive = 0;
    CHECK(verdict().reason == Reason::kZeroReceive);
  }
  SECTION("leap 3 is unsynchronized") {
    p.leap = 3;
    CHECK(verdict().reason == Reason::kUnsynchronized);
  }
  SECTION("stratum 16 is unsynchronized") {
    p.stratum = 16;
    CHECK(verdict().reason == Reason::kUnsynchronized);
    p.stratum = 15;
    CHECK(verdict().reason == Reason::kOk);
  }
  SECTION("root distance") {
    p.root_delay = 0x00010000;       // 1 s -> 0.5
    p.root_dispersion = 0x00010000;  // 1 s -> 1.5 total
    CHECK(verdict().reason == Reason::kRootDistance);
    p.root_dispersion = 0x0000ff00;  // just under
    CHECK(verdict().reason == Reason::kOk);
  }
  SECTION("kiss-o'-death is recognized despite LI=3 and echoed timestamps") {
    p.stratum = 0;
    p.leap = 3;
    p.refid = refid("RATE");
    p.receive = req.transmit;
    p.transmit = req.transmit;
    const auto v = verdict();
    CHECK(v.reason == Reason::kKissOfDeath);
    CHECK(v.kiss == Kiss::kRate);
    CHECK(is_reply(v.reason));
  }
  SECTION("a kiss with the wrong origin is not ours") {
    p.stratum = 0;
    p.refid = refid("DENY");
    p.origin = 7;
    CHECK(verdict().reason == Reason::kOriginMismatch);
  }
}

TEST_CASE("check_reply reason names", "[ntp][validate]") {
  CHECK(reason_name(Reason::kShort) == "short");
  CHECK(reason_name(Reason::kOversized) == "oversized");
  CHECK(reason_name(Reason::kWrongMode) == "wrong_mode");
  CHECK(reason_name(Reason::kWrongVersion) == "wrong_version");
  CHECK(reason_name(Reason::kZeroTransmit) == "zero_transmit");
  CHECK(reason_name(Reason::kKissOfDeath) == "kod");
}

TEST_CASE("check_reply never throws on random input", "[ntp][validate]") {
  const uint32_t seed = timepool::test::random_seed();
  INFO(timepool::test::seed_note(seed));
  std::mt19937_64 rng(seed);
  const Request req{rng(), 4};
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> b(rng() % 1100);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    CHECK_NOTHROW(check_reply(b, req));
  }
}
