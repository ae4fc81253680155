// monitor/spool: batches on disk in the order sealed, removed only when told, a crash's .tmp
// left-over cleared, refused batches moved aside, the assignment kept.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "monitor/api_client.hpp"
#include "monitor/spool.hpp"
#include "tests/support/process.hpp"

using namespace timepool;
using namespace timepool::monitor;

namespace {

ntp::TimePoint at(int64_t s) { return ntp::TimePoint(std::chrono::seconds(s)); }

}  // namespace

TEST_CASE("spool: batches survive a reopen, oldest first, until removed", "[spool]") {
  test::TempDir dir("tp-spool");
  const std::string path = dir.path() + "/spool";
  {
    Spool s(path);
    s.put("m1-00000002", "{\"b\":2}", at(1700000002));
    s.put("m1-00000001", "{\"b\":1}", at(1700000001));
    s.put("m2-00000001", "{\"b\":3}", at(1700000003));
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  // A write cut short by a crash.
  std::ofstream(path + "/00000000000000001-m9-1.json.tmp") << "{\"half";
  Spool s(path);
  CHECK_FALSE(std::filesystem::exists(path + "/00000000000000001-m9-1.json.tmp"));
  auto names = s.list();
  REQUIRE(names.size() == 3);
  CHECK(*s.read(names[0]) == "{\"b\":1}");
  CHECK(*s.read(names[1]) == "{\"b\":2}");
  CHECK(*s.read(names[2]) == "{\"b\":3}");
  s.remove(names[0]);
  s.reject(names[1]);
  CHECK(s.list() == std::vector<std::string>{names[2]});
  CHECK(std::filesystem::exists(path + "/rejected/" + names[1]));
  CHECK_FALSE(s.read(names[0]));
}

TEST_CASE("spool: the assignment is kept apart from the batches", "[spool]") {
  test::TempDir dir("tp-spool");
  Spool s(dir.path());
  CHECK_FALSE(s.load_assignment());
  const std::string a =
      R"({"monitor":"m","status":"active","interval_ms":1000,"refresh_ms":500,)"
      R"("servers":[{"id":7,"address":"192.0.2.7","pair":"testing"},{"id":8,"address":"2001:db8::8"}]})";
  s.save_assignment(a);
  CHECK(s.list().empty());
  auto parsed = parse_assignment(*s.load_assignment());
  REQUIRE(parsed);
  CHECK(parsed->monitor == "m");
  CHECK(parsed->probing());
  CHECK(parsed->interval == std::chrono::milliseconds(1000));
  REQUIRE(parsed->servers.size() == 2);
  CHECK(parsed->servers[0].pair == "testing");
  CHECK(parsed->servers[1].pair == "candidate");
  CHECK(parsed->servers[1].address.is_v6());
}

TEST_CASE("assignment: anything but an assignment is refused", "[spool]") {
  for (const char* bad : {"", "[]", "{}", R"({"monitor":"m","status":"active","interval_ms":1,"refresh_ms":500,"servers":[]})",
                          R"({"monitor":"m","status":"active","interval_ms":1000,"refresh_ms":500,"servers":[{"id":1,"address":"x"}]})"}) {
    INFO(bad);
    CHECK_FALSE(parse_assignment(bad));
  }
}

TEST_CASE("spool: a folder that cannot be made is an error", "[spool]") {
  CHECK_THROWS_AS(Spool("/proc/timepool-spool"), SpoolError);
}

namespace {

// A batch of `n` results as the uplink writes it (only the length of "results" matters here).
std::string batch_text(int n, std::size_t pad = 0) {
  std::string r = "{\"batch_id\":\"b\",\"results\":[";
  for (int i = 0; i < n; ++i) r += (i ? ",{}" : "{}");
  return r + "],\"pad\":\"" + std::string(pad, 'x') + "\"}";
}

}  // namespace

TEST_CASE("spool: over its batch bound, the oldest batches are deleted and reported", "[spool]") {
  test::TempDir dir("tp-spool");
  Spool s(dir.path(), SpoolLimits{1 << 20, 3});
  for (int i = 1; i <= 3; ++i) {
    CHECK(s.put("m-" + std::to_string(i), batch_text(i), at(1700000000 + i)).dropped.empty());
  }
  CHECK(s.batches() == 3);
  auto st = s.put("m-4", batch_text(4), at(1700000004));
  REQUIRE(st.dropped.size() == 1);
  CHECK(st.dropped[0].name == "01700000001000000-m-1.json");
  CHECK(st.dropped[0].results == 1);
  CHECK(st.dropped[0].bytes == batch_text(1).size());
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/" + st.dropped[0].name));
  const auto names = s.list();
  REQUIRE(names.size() == 3);
  CHECK(names.front() == "01700000002000000-m-2.json");
  CHECK(names.back() == st.name);
  // Reopened (a restart of the monitor): the bound counts the earlier run's batches too.
  Spool again(dir.path(), SpoolLimits{1 << 20, 2});
  CHECK(again.batches() == 3);
  st = again.put("m-5", batch_text(5), at(1700000005));
  REQUIRE(st.dropped.size() == 2);
  CHECK(st.dropped[0].results == 2);
  CHECK(st.dropped[1].results == 3);
  CHECK(again.list() == std::vector<std::string>{"01700000004000000-m-4.json", st.name});
}

TEST_CASE("spool: over its byte bound the oldest go until it fits and the newest always stays",
          "[spool]") {
  test::TempDir dir("tp-spool");
  const std::size_t one = batch_text(1, 1000).size();
  Spool s(dir.path(), SpoolLimits{3 * one, 1000});
  for (int i = 1; i <= 3; ++i) s.put("m-" + std::to_string(i), batch_text(1, 1000), at(100 + i));
  CHECK(s.bytes() == 3 * one);
  auto st = s.put("m-4", batch_text(1, 1000), at(104));
  CHECK(st.dropped.size() == 1);
  CHECK(s.bytes() == 3 * one);
  // One batch larger than the whole bound: everything older goes, the new one is kept.
  st = s.put("m-5", batch_text(7, 4 * one), at(105));
  CHECK(st.dropped.size() == 3);
  CHECK(s.list() == std::vector<std::string>{st.name});
  CHECK(s.bytes() == batch_text(7, 4 * one).size());
  // Sent and removed: the count and size follow.
  s.remove(st.name);
  CHECK(s.batches() == 0);
  CHECK(s.bytes() == 0);
  // A batch that is not JSON still goes when it is the oldest; its results are not known.
  s.put("m-6", "not json", at(106));
  s.put("m-7", batch_text(1, 1000), at(107));
  s.put("m-8", batch_text(1, 1000), at(108));
  st = s.put("m-9", batch_text(1, 1000), at(109));
  REQUIRE(st.dropped.size() == 1);
  CHECK(st.dropped[0].results == 0);
}
