#include <catch2/catch.hpp>

#include "web/server_status.hpp"

using namespace timepool::web;

namespace {

bool any_contains(const std::vector<std::string>& lines, const std::string& what) {
  for (const auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

StatusFacts out_of_dns(double score = -20) {
  StatusFacts f;
  f.score = score;
  f.netspeed = 1500;
  f.probes_total = 100;
  return f;
}

ProbeFact good(double offset = 0.001) { return ProbeFact{offset, 2, std::nullopt, 1}; }
ProbeFact failed(const char* error, double step) {
  return ProbeFact{std::nullopt, std::nullopt, std::string(error), step};
}

}  // namespace

TEST_CASE("a server in DNS says so", "[web][status]") {
  StatusFacts f = out_of_dns(17);
  f.in_dns = true;
  auto e = explain_status(f);
  CHECK(e.in_dns);
  CHECK(e.headline == "In the pool: DNS hands it out");
  CHECK(e.todo.empty());
}

TEST_CASE("an offset too large is named with its value", "[web][status]") {
  StatusFacts f = out_of_dns(-20);
  for (int i = 0; i < 10; ++i) f.recent.push_back(ProbeFact{5.000123, 2, std::nullopt, -4});
  auto e = explain_status(f);
  CHECK(e.headline == "Not in DNS: its time is off by +5000.123 ms");
  CHECK(any_contains(e.why, "Offset too large in 10 of the last 10 probes: the newest was +5000.123 ms"));
  CHECK(any_contains(e.why, "The score is -20.0"));
  CHECK(any_contains(e.todo, "chronyc sources"));
}

TEST_CASE("no reply, Kiss-o'-Death DENY, RSTR and RATE", "[web][status]") {
  SECTION("timeouts") {
    StatusFacts f = out_of_dns();
    for (int i = 0; i < 4; ++i) f.recent.push_back(failed("timeout", -5));
    auto e = explain_status(f);
    CHECK(e.headline == "Not in DNS: no reply from the server");
    CHECK(any_contains(e.why, "No reply in 4 of the last 4 probes"));
    CHECK(any_contains(e.todo, "UDP port 123"));
  }
  SECTION("DENY comes first, other problems are listed too") {
    StatusFacts f = out_of_dns(-60);
    f.recent = {failed("kod DENY", -10), failed("timeout", -5), good()};
    auto e = explain_status(f);
    CHECK(e.headline == "Not in DNS: the server refuses our monitors (Kiss-o'-Death DENY)");
    CHECK(any_contains(e.why, "Kiss-o'-Death DENY in 1 of the last 3 probes"));
    CHECK(any_contains(e.why, "No reply in 1 of the last 3 probes"));
    CHECK(any_contains(e.todo, "restrict"));
  }
  SECTION("RSTR") {
    StatusFacts f = out_of_dns(-60);
    f.recent = {failed("kod RSTR", -10)};
    CHECK(explain_status(f).headline ==
          "Not in DNS: the server refuses our monitors (Kiss-o'-Death RSTR)");
  }
  SECTION("RATE") {
    StatusFacts f = out_of_dns(2);
    f.recent = {failed("kod RATE", -3.5), good()};
    auto e = explain_status(f);
    CHECK(e.headline == "Not in DNS: the server rate-limits our monitors (Kiss-o'-Death RATE)");
    CHECK(any_contains(e.todo, "ratelimit"));
  }
  SECTION("an unsynchronized server") {
    StatusFacts f = out_of_dns(2);
    f.recent = {failed("unsynchronized", -4)};
    CHECK(explain_status(f).headline == "Not in DNS: its replies are not usable (unsynchronized)");
  }
}

TEST_CASE("an admin's action comes with the reason", "[web][status]") {
  StatusFacts f = out_of_dns(15);
  f.disabled_at = "2026-11-30T10:00:00Z";
  f.disabled_reason = "answers with the wrong year";
  auto e = explain_status(f);
  CHECK(e.headline == "Not in DNS: disabled by an administrator");
  CHECK(any_contains(e.why, "Their reason: answers with the wrong year"));
  f.disabled_reason.reset();
  CHECK(any_contains(explain_status(f).why, "No reason was recorded."));
}

TEST_CASE("new and recovering servers say how long it takes", "[web][status]") {
  SECTION("no probes yet") {
    StatusFacts f = out_of_dns(0);
    f.probes_total = 0;
    auto e = explain_status(f);
    CHECK(e.headline == "Not in DNS yet: not enough history");
    CHECK(any_contains(e.todo, "about 14 good probes"));
  }
  SECTION("a few good probes") {
    StatusFacts f = out_of_dns(4.0);
    f.probes_total = 5;
    f.recent = {good(), good(), good(), good(), good()};
    auto e = explain_status(f);
    CHECK(e.headline == "Not in DNS yet: not enough history");
    CHECK(any_contains(e.why, "5 probes so far"));
    CHECK(any_contains(e.todo, "reaches 10 after about"));
  }
  SECTION("recovering") {
    StatusFacts f = out_of_dns(5.0);
    f.recent = {good(), good()};
    auto e = explain_status(f);
    CHECK(e.headline == "Not in DNS yet: the score is recovering");
    // 0.95 * s + 1 from 5: 5.75, 6.46, 7.14, 7.78, 8.39, 8.97, 9.52, 10.05.
    CHECK(any_contains(e.todo, "after about 8 more (about 72 minutes)"));
  }
}

TEST_CASE("owner's choices: deletion, monitoring only", "[web][status]") {
  StatusFacts f = out_of_dns(18);
  f.deletion_on = "2026-12-07";
  CHECK(explain_status(f).headline == "Not in DNS: leaving the pool");
  f.deletion_on.reset();
  f.netspeed = 0;
  CHECK(explain_status(f).headline == "Not in DNS: monitoring only");
}

TEST_CASE("the HTML is escaped", "[web][status]") {
  StatusExplanation e{false, "<h>", {"a<b"}, {"c&d"}};
  auto html = status_html(e);
  CHECK(html.find("&lt;h&gt;") != std::string::npos);
  CHECK(html.find("a&lt;b") != std::string::npos);
  CHECK(html.find("c&amp;d") != std::string::npos);
  CHECK(html.find("id=\"why\"") != std::string::npos);
}

TEST_CASE("a reported address is held out of DNS whatever its probes say", "[web][status]") {
  StatusFacts f = out_of_dns(15);
  f.held = true;
  for (int i = 0; i < 10; ++i) f.recent.push_back(good());
  auto e = explain_status(f);
  CHECK_FALSE(e.in_dns);
  CHECK(e.headline == "Not in DNS: someone reported the address as theirs");
  CHECK(any_contains(e.todo, "dismiss the report"));
  // An admin's disabling comes first: the report was decided by it.
  f.disabled_at = "2026-11-30";
  CHECK(explain_status(f).headline == "Not in DNS: disabled by an administrator");
}
