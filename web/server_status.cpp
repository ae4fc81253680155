#include "web/server_status.hpp"

#include <cmath>
#include <cstdio>

#include "core/scoring.hpp"
#include "web/html.hpp"

namespace timepool::web {

namespace {

// Within this offset a server's score settles at 10 or more (the step is at least 0.5 and the
// score tends to 20 * step): the 25-100 ms row of the step table.
constexpr double kGoodOffset = 0.100;
// Monitors probe each server about this often (DESIGN.md "Probing").
constexpr double kProbeMinutes = 9;

std::string ms(double seconds) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%+.3f ms", seconds * 1000);
  return buf;
}

std::string of_recent(size_t n, size_t total) {
  return std::to_string(n) + " of the last " + std::to_string(total) + " probes";
}

enum class Kind { kGood, kDeny, kRate, kNoReply, kOffset, kStratum, kError };

Kind classify(const ProbeFact& p) {
  if (p.error) {
    const std::string& e = *p.error;
    if (e == "kod DENY" || e == "kod RSTR") return Kind::kDeny;
    if (e == "kod RATE") return Kind::kRate;
    if (e == "timeout" || e.rfind("send", 0) == 0 || e == "no response") return Kind::kNoReply;
    return Kind::kError;
  }
  if (p.offset_s && std::fabs(*p.offset_s) > kGoodOffset) return Kind::kOffset;
  if (p.stratum && *p.stratum >= 8) return Kind::kStratum;
  return Kind::kGood;
}

// Good probes (+1 each, or the newest good probe's step) until the score reaches 10.
int probes_to_ten(double score, double step) {
  if (step <= 0) return -1;
  int n = 0;
  while (score < scoring::kPoolThreshold && n < 500) {
    score = scoring::update_score(score, scoring::Step{step, std::nullopt, ""});
    ++n;
  }
  return score >= scoring::kPoolThreshold ? n : -1;
}

std::string about_time(int probes) {
  double minutes = probes * kProbeMinutes;
  if (minutes < 90) return "about " + std::to_string(static_cast<int>(std::lround(minutes))) + " minutes";
  return "about " + std::to_string(static_cast<int>(std::lround(minutes / 60))) + " hours";
}

// The recent probes counted by kind, with the newest of each kind.
struct Tally {
  size_t total = 0;
  size_t n[7] = {};
  const ProbeFact* newest_of[7] = {};
  size_t count(Kind k) const { return n[static_cast<size_t>(k)]; }
  const ProbeFact* newest(Kind k) const { return newest_of[static_cast<size_t>(k)]; }
};

Tally tally(const StatusFacts& f) {
  Tally t;
  t.total = std::min(f.recent.size(), kRecentProbes);
  for (size_t i = 0; i < t.total; ++i) {
    auto k = static_cast<size_t>(classify(f.recent[i]));
    ++t.n[k];
    if (!t.newest_of[k]) t.newest_of[k] = &f.recent[i];
  }
  return t;
}

// The explanation being written: the first problem found names the headline.
struct Problems {
  const Tally& t;
  StatusExplanation& e;
  bool found = false;
  void headline(const std::string& h) {
    if (!found) e.headline = "Not in DNS: " + h;
    found = true;
  }
};

// Kiss-o'-Death replies: the server refuses or rate-limits the monitors.
void explain_refusals(Problems& p) {
  const Tally& t = p.t;
  if (t.count(Kind::kDeny) > 0) {
    std::string code = t.newest(Kind::kDeny)->error->substr(4);
    p.headline("the server refuses our monitors (Kiss-o'-Death " + code + ")");
    p.e.why.push_back("Kiss-o'-Death " + code + " in " + of_recent(t.count(Kind::kDeny), t.total) +
                      ": the server told our monitor it may not ask for the time. Each one costs "
                      "10 points and caps the score at -50, and the monitor stops asking.");
    p.e.todo.push_back("Let everyone query the server: remove access rules that match our "
                       "monitors (ntpd: 'restrict ... ignore' or 'noquery'; chrony: 'deny'), then "
                       "keep it running; the score climbs back with good probes.");
  }
  if (t.count(Kind::kRate) > 0) {
    p.headline("the server rate-limits our monitors (Kiss-o'-Death RATE)");
    p.e.why.push_back("Kiss-o'-Death RATE in " + of_recent(t.count(Kind::kRate), t.total) +
                      ": the server said our monitor asks too often (3.5 points each). A probe is "
                      "at most 3 packets, 2 s apart.");
    p.e.todo.push_back("Loosen the rate limit so 3 packets 2 s apart are answered (ntpd: 'limit' "
                       "or 'discard' settings; chrony: 'ratelimit interval' and 'burst').");
  }
  if (t.count(Kind::kNoReply) > 0) {
    p.headline("no reply from the server");
    p.e.why.push_back("No reply in " + of_recent(t.count(Kind::kNoReply), t.total) +
                      ": our monitors sent NTP packets and got no answer within 3 s (5 points "
                      "each).");
    p.e.todo.push_back("Check that the NTP daemon runs, that UDP port 123 is open to the whole "
                       "internet in every firewall on the way, and that the address is right.");
  }
}

// Replies that arrive but do not serve good time.
void explain_bad_time(Problems& p) {
  const Tally& t = p.t;
  if (t.count(Kind::kOffset) > 0) {
    const ProbeFact* f = t.newest(Kind::kOffset);
    p.headline("its time is off by " + ms(*f->offset_s));
    p.e.why.push_back("Offset too large in " + of_recent(t.count(Kind::kOffset), t.total) +
                      ": the newest was " + ms(*f->offset_s) +
                      ". A score stays at 10 or more only while the offset is within 100 ms; "
                      "beyond 3 s each probe costs 4 points and caps the score at -20.");
    p.e.todo.push_back("Check the server's own time sources (chronyc sources, ntpq -p): it must "
                       "follow good upstream servers and not run on its local clock.");
  }
  if (t.count(Kind::kStratum) > 0) {
    const ProbeFact* f = t.newest(Kind::kStratum);
    p.headline("its stratum (" + std::to_string(*f->stratum) + ") is too high");
    p.e.why.push_back("Stratum " + std::to_string(*f->stratum) + " in " +
                      of_recent(t.count(Kind::kStratum), t.total) +
                      ": servers of stratum 8 or more lose 4 points per probe.");
    p.e.todo.push_back("Synchronize the server to sources of a lower stratum (1 to 4).");
  }
  if (t.count(Kind::kError) > 0) {
    const ProbeFact* f = t.newest(Kind::kError);
    p.headline("its replies are not usable (" + *f->error + ")");
    p.e.why.push_back("Unusable replies in " + of_recent(t.count(Kind::kError), t.total) + ": " +
                      *f->error + " (4 points each; 2 for a stratum 0 reply without a kiss code).");
    p.e.todo.push_back("A server that is not synchronized (leap 3, stratum 0 or 16) must not "
                       "answer as a time source: wait until it is synchronized and check its "
                       "sources.");
  }
}

// Every recent probe was good: the score is climbing.
void explain_climbing(const StatusFacts& f, size_t total, StatusExplanation& e) {
  const ProbeFact& p = f.recent.front();
  int more = probes_to_ten(f.score, p.step > 0 ? p.step : 1);
  if (f.probes_total < 14) {
    e.headline = "Not in DNS yet: not enough history";
    e.why.push_back("The server is new: " + std::to_string(f.probes_total) +
                    (f.probes_total == 1 ? " probe" : " probes") +
                    " so far, all recent ones good. The score starts at 0 and gains about 1 per good "
                    "probe, less as it nears 20.");
  } else {
    e.headline = "Not in DNS yet: the score is recovering";
    e.why.push_back("The last " + std::to_string(total) +
                    " probes were good, but earlier problems pulled the score down to " +
                    std::to_string(static_cast<int>(std::floor(f.score))) + ".");
  }
  if (more > 0) {
    e.todo.push_back("Nothing to do: with good probes it reaches 10 after about " +
                     std::to_string(more) + " more (" + about_time(more) + ").");
  } else {
    e.todo.push_back("Keep the offset well within 100 ms so the score can reach 10.");
  }
}

void explain_probes(const StatusFacts& f, StatusExplanation& e) {
  const Tally t = tally(f);
  if (t.total == 0) {
    e.headline = "Not in DNS yet: not enough history";
    e.why.push_back("No monitor has probed this server yet. Monitors probe each server about every 9 "
                    "minutes, each at its own time.");
    e.todo.push_back("Nothing to do: keep the server running. A new server needs about 14 good "
                     "probes in a row (about 2 hours) to reach a score of 10.");
    return;
  }
  Problems problems{t, e};
  explain_refusals(problems);
  explain_bad_time(problems);
  if (!problems.found) explain_climbing(f, t.total, e);
}

}  // namespace

StatusExplanation explain_status(const StatusFacts& f) {
  StatusExplanation e;
  char score[32];
  std::snprintf(score, sizeof score, "%.1f", f.score);
  if (f.in_dns) {
    e.in_dns = true;
    e.headline = "In the pool: DNS hands it out";
    e.why.push_back(std::string("The score is ") + score + " (10 or more keeps it in DNS).");
    return e;
  }
  if (f.disabled_at) {
    e.headline = "Not in DNS: disabled by an administrator";
    e.why.push_back("An administrator took the server out of the pool on " + *f.disabled_at +
                    "; it is not probed while disabled.");
    if (f.disabled_reason && !f.disabled_reason->empty()) {
      e.why.push_back("Their reason: " + *f.disabled_reason);
    } else {
      e.why.push_back("No reason was recorded.");
    }
    e.todo.push_back("Fix what the reason names, then ask the pool's administrators to enable "
                     "the server again; it returns to DNS once its score is 10 or more.");
    return e;
  }
  if (f.owner_disabled) {
    e.headline = "Not in DNS: the owner's account is disabled";
    e.why.push_back("Servers of a disabled account are not handed out.");
    e.todo.push_back("Ask the pool's administrators about the account.");
    return e;
  }
  if (f.held) {
    e.headline = "Not in DNS: someone reported the address as theirs";
    e.why.push_back("Someone told the pool that this address is theirs and asked it to stop "
                    "sending traffic there, so DNS hands it out to nobody until an "
                    "administrator has looked at the report. The monitors keep checking it.");
    e.todo.push_back("If the server is yours, nothing needs doing: the pool's administrators "
                     "will contact you, and it returns to DNS when they dismiss the report.");
    return e;
  }
  if (f.deletion_on) {
    e.headline = "Not in DNS: leaving the pool";
    e.why.push_back("Its owner scheduled the deletion for " + *f.deletion_on +
                    "; it left DNS at once.");
    e.todo.push_back("To keep it, undo the deletion on its Manage page before then.");
    return e;
  }
  if (f.netspeed == 0) {
    e.headline = "Not in DNS: monitoring only";
    e.why.push_back("Its netspeed is 0: it is scored but never handed out.");
    e.todo.push_back("Choose a netspeed above 0 on its Manage page to join DNS.");
    return e;
  }
  if (f.stale && !f.outage) {
    e.headline = "Not in DNS: no recent score";
    e.why.push_back("No monitor has scored the server in the last 45 minutes, so its score is "
                    "not trusted.");
    e.todo.push_back("Nothing to do: it returns with the next monitor's probe. If this lasts "
                     "hours, tell the pool's administrators.");
    return e;
  }
  explain_probes(f, e);
  e.why.insert(e.why.begin(), std::string("The score is ") + score +
                                  "; DNS hands a server out while it is 10 or more.");
  return e;
}

StatusFacts load_status_facts(pg::Connection& db, const ServerInfo& s, bool with_reason) {
  StatusFacts f;
  f.in_dns = s.in_dns;
  f.score = s.score;
  f.netspeed = s.netspeed;
  f.deletion_on = s.deletion_on;
  f.disabled_at = s.disabled_at;
  auto r = db.exec(
      "SELECT s.stale_since IS NOT NULL, "
      "  coalesce((SELECT a.disabled_at IS NOT NULL FROM accounts a WHERE a.id = s.owner_id), false), "
      "  (SELECT outage FROM monitoring_outage), "
      "  (SELECT count(*) FROM (SELECT 1 FROM probe_log p WHERE p.server_id = s.id LIMIT 100) x), "
      "  (SELECT l.detail FROM audit_log l WHERE l.action = 'server.disable' "
      "     AND l.target = host(s.address) ORDER BY l.at DESC, l.id DESC LIMIT 1), "
      "  s.held_at IS NOT NULL "
      "FROM servers s WHERE s.id = $1",
      s.id);
  if (r.rows() == 1) {
    f.stale = r.get<bool>(0, 0);
    f.owner_disabled = r.get<bool>(0, 1);
    f.outage = !r.is_null(0, 2) && r.get<bool>(0, 2);
    f.probes_total = r.get<int64_t>(0, 3);
    if (with_reason) f.disabled_reason = r.get<std::optional<std::string>>(0, 4);
    f.held = r.get<bool>(0, 5);
  }
  for (const auto& l : load_log(db, s.id, std::nullopt, static_cast<int>(kRecentProbes))) {
    f.recent.push_back(ProbeFact{l.offset_s, l.stratum, l.error, l.step});
  }
  return f;
}

std::string status_html(const StatusExplanation& e) {
  std::string out = std::string("<section class=\"why") + (e.in_dns ? " in" : "") +
                    "\" id=\"why\"><h2 id=\"why-headline\">" + esc(e.headline) + "</h2>";
  if (!e.why.empty()) {
    out += "<ul id=\"why-reasons\">";
    for (const auto& w : e.why) out += "<li>" + esc(w) + "</li>";
    out += "</ul>";
  }
  if (!e.todo.empty()) {
    out += "<h3>What to do</h3><ul id=\"why-todo\">";
    for (const auto& t : e.todo) out += "<li>" + esc(t) + "</li>";
    out += "</ul>";
  }
  return out + "</section>";
}

}  // namespace timepool::web
