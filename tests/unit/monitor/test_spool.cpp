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
