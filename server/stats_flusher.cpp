// The writing side of server/query_stats.hpp: write_batch() and the StatsFlusher with its
// spool of sealed batches.
#include "server/query_stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <time.h>

#include <algorithm>

#include "core/log.hpp"
#include "core/password.hpp"

namespace timepool::stats {

// --- Writing ---------------------------------------------------------------------------------

namespace {

// One column of the rows as an array parameter.
template <typename T, typename Get>
pg::ArrayBuilder int_array(const std::vector<T>& rows, Get get) {
  pg::ArrayBuilder out;
  for (const auto& r : rows) out.add(static_cast<int64_t>(get(r)));
  return out;
}

// The statement that adds counts, given as parallel arrays (`unnest`, aliased t with the
// count as t.c and the ordinality as t.i), to `table`: one row per `key`, into which every DNS
// server's counts for that key are added. Rows go in the arrays' order, which is primary key
// order, so concurrent writers lock rows in the same order and cannot deadlock; rows whose
// `parent` row was deleted since the counting are skipped rather than failing. Every part is a
// constant of this file: no value is spliced into the statement.
std::string add_counts_sql(std::string_view table, std::string_view key, std::string_view values,
                           std::string_view unnest, std::string_view parent) {
  const std::string t(table), k(key);
  return "INSERT INTO " + t + " (" + k + ", count) SELECT " + std::string(values) +
         ", t.c FROM " + std::string(unnest) + " WHERE EXISTS (SELECT 1 FROM " +
         std::string(parent) + ") ORDER BY t.i ON CONFLICT (" + k +
         ") DO UPDATE SET count = " + t + ".count + EXCLUDED.count";
}

const std::string kAddQueryCounts = add_counts_sql(
    "dns_query_counts", "zone_id, minute, qtype, rcode", "t.z, to_timestamp(t.m * 60), t.q, t.r",
    "unnest($1::int[], $2::bigint[], $3::int[], $4::smallint[], $5::bigint[]) "
    "WITH ORDINALITY AS t (z, m, q, r, c, i)",
    "zones WHERE zones.id = t.z");
const std::string kAddServerAnswers = add_counts_sql(
    "dns_server_answers", "server_id, hour", "t.s, to_timestamp(t.h * 3600)",
    "unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS t (s, h, c, i)",
    "servers WHERE servers.id = t.s");
const std::string kAddDemand = add_counts_sql(
    "dns_demand", "zone_id, family, minute", "t.z, t.f, to_timestamp(t.m * 60)",
    "unnest($1::int[], $2::smallint[], $3::bigint[], $4::bigint[]) "
    "WITH ORDINALITY AS t (z, f, m, c, i)",
    "zones WHERE zones.id = t.z");

}  // namespace

bool write_batch(pg::Connection& conn, const std::string& instance_id, const Batch& batch) {
  pg::Transaction tx(conn);
  auto claimed = tx.exec(
      "INSERT INTO dns_stats_flushes (instance_id, flush_seq, query_rows, answer_rows) "
      "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
      instance_id, static_cast<int64_t>(batch.seq), static_cast<int64_t>(batch.queries.size()),
      static_cast<int64_t>(batch.answers.size()));
  if (claimed.affected() == 0) {
    tx.commit();
    return false;
  }
  if (!batch.queries.empty()) {
    const auto& q = batch.queries;
    const auto zones = int_array(q, [](const QueryRow& r) { return r.zone_id; });
    const auto minutes = int_array(q, [](const QueryRow& r) { return r.minute; });
    const auto qtypes = int_array(q, [](const QueryRow& r) { return r.qtype; });
    const auto rcodes = int_array(q, [](const QueryRow& r) { return r.rcode; });
    const auto counts = int_array(q, [](const QueryRow& r) { return r.count; });
    tx.exec(kAddQueryCounts, zones, minutes, qtypes, rcodes, counts);
    // The same counts by hour, summed here and written in primary key order likewise.
    tx.exec(
        "INSERT INTO dns_query_counts_hourly (zone_id, hour, qtype, rcode, count) "
        "SELECT t.z, to_timestamp((t.m / 60) * 3600), t.q, t.r, sum(t.c) "
        "FROM unnest($1::int[], $2::bigint[], $3::int[], $4::smallint[], $5::bigint[]) "
        "  AS t (z, m, q, r, c) "
        "WHERE EXISTS (SELECT 1 FROM zones WHERE zones.id = t.z) "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4 "
        "ON CONFLICT (zone_id, hour, qtype, rcode) "
        "DO UPDATE SET count = dns_query_counts_hourly.count + EXCLUDED.count",
        zones, minutes, qtypes, rcodes, counts);
  }
  if (!batch.answers.empty()) {
    const auto& a = batch.answers;
    tx.exec(kAddServerAnswers, int_array(a, [](const AnswerRow& r) { return r.server_id; }),
            int_array(a, [](const AnswerRow& r) { return r.hour; }),
            int_array(a, [](const AnswerRow& r) { return r.count; }));
  }
  if (!batch.demand.empty()) {
    const auto& d = batch.demand;
    tx.exec(kAddDemand, int_array(d, [](const DemandCount& r) { return r.zone_id; }),
            int_array(d, [](const DemandCount& r) { return r.family; }),
            int_array(d, [](const DemandCount& r) { return r.minute; }),
            int_array(d, [](const DemandCount& r) { return r.count; }));
  }
  tx.commit();
  return true;
}

namespace {

constexpr const char* kSpoolMagic = "timepool-stats-batch 1";

// The batch as text, ending in a line "end" so a torn file is recognized.
std::string spool_text(const std::string& instance_id, const Batch& b) {
  std::ostringstream o;
  o << kSpoolMagic << "\ninstance " << instance_id << "\nseq " << b.seq << "\n";
  for (const auto& q : b.queries) {
    o << "q " << q.minute << ' ' << q.zone_id << ' ' << q.qtype << ' ' << q.rcode << ' '
      << q.count << "\n";
  }
  for (const auto& a : b.answers) o << "a " << a.hour << ' ' << a.server_id << ' ' << a.count << "\n";
  for (const auto& d : b.demand) {
    o << "d " << d.minute << ' ' << d.zone_id << ' ' << int{d.family} << ' ' << d.count << "\n";
  }
  o << "end\n";
  return o.str();
}

bool parse_spool(const std::string& text, std::string& instance_id, Batch& b) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kSpoolMagic) return false;
  if (!std::getline(in, line) || line.rfind("instance ", 0) != 0) return false;
  instance_id = line.substr(9);
  if (instance_id.empty()) return false;
  if (!std::getline(in, line) || line.rfind("seq ", 0) != 0) return false;
  b.seq = std::stoull(line.substr(4));
  while (std::getline(in, line)) {
    if (line == "end") return true;
    std::istringstream f(line);
    char kind = 0;
    f >> kind;
    if (kind == 'q') {
      QueryRow q{};
      int64_t qtype = 0, rcode = 0;
      f >> q.minute >> q.zone_id >> qtype >> rcode >> q.count;
      q.qtype = static_cast<uint16_t>(qtype);
      q.rcode = static_cast<uint16_t>(rcode);
      if (!f) return false;
      b.queries.push_back(q);
    } else if (kind == 'a') {
      AnswerRow a{};
      f >> a.hour >> a.server_id >> a.count;
      if (!f) return false;
      b.answers.push_back(a);
    } else if (kind == 'd') {
      DemandCount d{};
      int64_t family = 0;
      f >> d.minute >> d.zone_id >> family >> d.count;
      if (!f || (family != 4 && family != 6)) return false;
      d.family = static_cast<uint8_t>(family);
      b.demand.push_back(d);
    } else {
      return false;
    }
  }
  return false;  // no "end": torn
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw std::runtime_error("fsync " + path + ": " + std::strerror(err));
}

// Written to a temporary name, fsynced, renamed, and the folder fsynced: after a crash the file
// is either whole or absent.
void write_durable(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string tmp = dir + "/." + name + ".tmp";
  const std::string path = dir + "/" + name;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  fsync_path(tmp, O_RDONLY);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("rename " + tmp + ": " + std::strerror(errno));
  }
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

std::string spool_name(const std::string& instance_id, uint64_t seq) {
  std::string n;
  for (char c : instance_id) n += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  char buf[32];
  std::snprintf(buf, sizeof buf, ".%012llu.batch", static_cast<unsigned long long>(seq));
  return n + buf;
}

}  // namespace

StatsFlusher::StatsFlusher(QueryStats& stats, std::string conninfo, const std::string& name,
                           ReconnectOptions reconnect, std::string spool_dir)
    : stats_(stats),
      spool_dir_(std::move(spool_dir)),
      conninfo_(std::move(conninfo)),
      instance_id_(name.substr(0, 150) + "/" + password::random_token(8)),
      link_("statistics database", log::get("stats"), reconnect,
            [this] { return std::to_string(waiting()) + " batches queued"; }) {
  if (!spool_dir_.empty()) load_spool();
}

void StatsFlusher::load_spool() {
  auto logger = log::get("stats");
  if (::mkdir(spool_dir_.c_str(), 0750) != 0 && errno != EEXIST) {
    logger->error("stats: spool folder {}: {}", spool_dir_, std::strerror(errno));
    return;
  }
  std::vector<std::string> names;
  if (DIR* d = ::opendir(spool_dir_.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 6 && n[0] != '.' && n.compare(n.size() - 6, 6, ".batch") == 0) names.push_back(n);
    }
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());  // per instance, by sequence number
  for (const auto& n : names) {
    const std::string path = spool_dir_ + "/" + n;
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    Pending p;
    p.path = path;
    bool ok = false;
    try {
      ok = parse_spool(text.str(), p.instance_id, p.batch);
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok) {
      logger->error("stats: spool file {} is damaged; left in place", path);
      continue;
    }
    pending_.push_back(std::move(p));
  }
  if (!pending_.empty()) {
    logger->info("stats: {} batches from {} to deliver", pending_.size(), spool_dir_);
  }
}

void StatsFlusher::spool_new() {
  if (spool_dir_.empty()) return;
  while (auto b = stats_.take()) {
    Pending p{instance_id_, std::move(*b), {}};
    const std::string name = spool_name(instance_id_, p.batch.seq);
    try {
      write_durable(spool_dir_, name, spool_text(instance_id_, p.batch));
      p.path = spool_dir_ + "/" + name;
    } catch (const std::exception& e) {
      log::get("stats")->error("stats: batch {} not spooled (kept in memory): {}", p.batch.seq,
                               e.what());
    }
    pending_.push_back(std::move(p));
  }
}

FlushResult StatsFlusher::flush(int64_t now_unix_s) {
  stats_.collect(now_unix_s);
  stats_.seal();
  return write_queued();
}

FlushResult StatsFlusher::write_queued() {
  FlushResult res;
  auto logger = log::get("stats");
  spool_new();
  while (waiting() > 0) {
    if (!conn_ && !link_.due()) {
      res.error = "statistics database unavailable; next attempt in " +
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     link_.retry_at() - Reconnect::Clock::now())
                                     .count()) +
                  " ms";
      break;
    }
    // Spooled batches first (they are the oldest), else the in-memory queue.
    const bool spooled = !pending_.empty();
    std::optional<Batch> taken;
    if (!spooled) {
      taken = stats_.take();
      if (!taken) break;
    }
    const Batch& batch = spooled ? pending_.front().batch : *taken;
    const std::string& instance = spooled ? pending_.front().instance_id : instance_id_;
    try {
      if (!conn_) conn_ = pg::Connection::open(conninfo_);
      const bool fresh = write_batch(*conn_, instance, batch);
      link_.succeeded();
      if (fresh) {
        ++res.written;
      } else {
        ++res.duplicates;
      }
    } catch (const pg::Error& e) {
      if (e.is_connection() || e.is_retryable()) {
        if (!spooled) stats_.put_back(std::move(*taken));
        if (e.is_connection()) {
          conn_.reset();
          link_.failed(e.what());
        }
        res.error = e.what();
        break;
      }
      // The database refuses the content itself: retrying cannot help, and keeping it would
      // block every later batch.
      ++res.discarded;
      logger->error("stats: flush {} of {} refused, {} query rows lost: {}", batch.seq, instance,
                    batch.queries.size(), e.what());
    } catch (const std::exception& e) {
      if (!spooled) stats_.put_back(std::move(*taken));
      res.error = e.what();
      conn_.reset();
      link_.failed(e.what());
      break;
    }
    if (spooled) {
      // Applied (or found applied): its file goes. A crash before the unlink re-sends it after
      // the restart, and dns_stats_flushes recognizes it.
      if (!pending_.front().path.empty() && ::unlink(pending_.front().path.c_str()) != 0) {
        logger->warn("stats: {}: {}", pending_.front().path, std::strerror(errno));
      }
      pending_.pop_front();
    }
  }
  res.queued = waiting();
  return res;
}

}  // namespace timepool::stats
