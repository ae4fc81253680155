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

#include <time.h>

#include <algorithm>

#include "core/log.hpp"
#include "core/password.hpp"

namespace timepool::stats {

size_t qtype_bucket(uint16_t qtype) {
  switch (qtype) {
    case 1: return 1;
    case 2: return 2;
    case 6: return 3;
    case 16: return 4;
    case 28: return 5;
    case 65: return 6;
    case 255: return 7;
    default: return 0;
  }
}

size_t rcode_bucket(uint16_t rcode) {
  if (rcode <= 5) return rcode;
  return rcode == 16 ? 6 : 7;
}

int64_t current_minute() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) / 60;
}

// --- Recorder --------------------------------------------------------------------------------

Recorder::Recorder(uint32_t max_zones, uint32_t max_servers, std::atomic<uint64_t>* overflow)
    : max_zones_(max_zones), max_servers_(max_servers), overflow_(overflow) {
  for (auto& s : slots_) {
    s.queries = std::make_unique<PagedCounters>(size_t{max_zones} * kPerZone);
    s.answers = std::make_unique<PagedCounters>(max_servers);
    s.demand = std::make_unique<PagedCounters>(size_t{max_zones} * 2);
  }
}

void Recorder::grow(size_t zones, size_t servers) {
  for (auto& s : slots_) {
    s.queries->grow(zones * kPerZone);
    s.answers->grow(servers);
    s.demand->grow(zones * 2);
  }
}

Recorder::Slot& Recorder::enter(int64_t minute) {
  if (minute != minute_) {
    minute_ = minute;
    current_ = &slots_[static_cast<size_t>(minute) % kRing];
    // Seqlock-style: the new tag is stored before any count of the new minute, with a release
    // fence between, so a collector that read one of those counts (and then an acquire fence)
    // sees the new tag and knows its read straddled the change.
    current_->minute.store(minute, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  return *current_;
}

void Recorder::count_query(int64_t minute, uint32_t zone_slot, uint16_t qtype, uint16_t rcode) {
  if (zone_slot >= max_zones_ || minute < 0) {
    overflow_->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Slot& s = enter(minute);
  bump((*s.queries)[size_t{zone_slot} * kPerZone + qtype_bucket(qtype) * kRcodes.size() +
                    rcode_bucket(rcode)]);
}

void Recorder::count_answer(int64_t minute, uint32_t server_slot) {
  if (server_slot >= max_servers_ || minute < 0) {
    overflow_->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bump((*enter(minute).answers)[server_slot]);
}

void Recorder::count_demand(int64_t minute, uint32_t zone_slot, bool v6) {
  if (zone_slot >= max_zones_ || minute < 0) {
    overflow_->fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bump((*enter(minute).demand)[size_t{zone_slot} * 2 + (v6 ? 1 : 0)]);
}

// --- QueryStats ------------------------------------------------------------------------------

QueryStats::QueryStats(Limits limits) : limits_(limits) {}

uint32_t QueryStats::zone_slot(int32_t zone_id) {
  std::lock_guard lock(setup_mu_);
  const uint32_t slot = zone_slot_locked(zone_id);
  grow_recorders_locked();
  return slot;
}

uint32_t QueryStats::server_slot(int64_t server_id) {
  std::lock_guard lock(setup_mu_);
  const uint32_t slot = server_slot_locked(server_id);
  grow_recorders_locked();
  return slot;
}

std::vector<uint32_t> QueryStats::zone_slots(std::span<const int64_t> zone_ids) {
  std::vector<uint32_t> out(zone_ids.size());
  std::lock_guard lock(setup_mu_);
  for (size_t i = 0; i < zone_ids.size(); ++i) out[i] = zone_slot_locked(static_cast<int32_t>(zone_ids[i]));
  grow_recorders_locked();
  return out;
}

std::vector<uint32_t> QueryStats::server_slots(std::span<const int64_t> server_ids) {
  std::vector<uint32_t> out(server_ids.size());
  std::lock_guard lock(setup_mu_);
  for (size_t i = 0; i < server_ids.size(); ++i) out[i] = server_slot_locked(server_ids[i]);
  grow_recorders_locked();
  return out;
}

void QueryStats::grow_recorders_locked() {
  for (auto& r : recorders_) r->grow(zone_ids_.size(), server_ids_.size());
}

namespace {

// The slot of `id`, a new one while there is room, else kNoSlot.
template <typename Id>
uint32_t slot_of(std::map<Id, uint32_t>& slots, std::vector<Id>& ids, Id id, size_t max) {
  auto it = slots.find(id);
  if (it != slots.end()) return it->second;
  if (ids.size() >= max) return kNoSlot;
  const auto slot = static_cast<uint32_t>(ids.size());
  ids.push_back(id);
  slots.emplace(id, slot);
  return slot;
}

}  // namespace

uint32_t QueryStats::zone_slot_locked(int32_t zone_id) {
  return slot_of(zone_slots_, zone_ids_, zone_id, limits_.max_zones);
}

uint32_t QueryStats::server_slot_locked(int64_t server_id) {
  return slot_of(server_slots_, server_ids_, server_id, limits_.max_servers);
}

Recorder& QueryStats::add_recorder() {
  std::lock_guard lock(setup_mu_);
  recorders_.push_back(
      std::unique_ptr<Recorder>(new Recorder(limits_.max_zones, limits_.max_servers, &overflow_)));
  recorders_.back()->grow(zone_ids_.size(), server_ids_.size());
  return *recorders_.back();
}

uint64_t QueryStats::collect(int64_t now_unix_s) { return collect_slots(now_unix_s, false); }
uint64_t QueryStats::collect_all() { return collect_slots(0, true); }

uint64_t QueryStats::collect_slots(int64_t now_unix_s, bool all) {
  std::vector<int32_t> zone_ids;
  std::vector<int64_t> server_ids;
  std::vector<Recorder*> recorders;
  {
    std::lock_guard lock(setup_mu_);
    zone_ids = zone_ids_;
    server_ids = server_ids_;
    for (auto& r : recorders_) recorders.push_back(r.get());
  }
  std::lock_guard lock(collect_mu_);
  uint64_t total = 0;
  for (Recorder* r : recorders) {
    for (size_t s = 0; s < Recorder::kRing; ++s) {
      Recorder::Slot& slot = r->slots_[s];
      int64_t minute = slot.minute.load(std::memory_order_relaxed);
      if (minute < 0) continue;
      // A minute still being written is read once it has ended (plus grace for threads that
      // read the clock just before the boundary).
      if (!all && (minute + 1) * 60 + limits_.grace_seconds > now_unix_s) continue;
      Recorder::Seen& seen = r->seen_[s];
      // Counters are cumulative per slot and never reset (a reset would race with the writer):
      // what is new since the last read belongs to the slot's minute. Unsigned subtraction is
      // right across a wrap of the 32-bit counter.
      size_t nq = zone_ids.size() * Recorder::kPerZone;
      size_t na = server_ids.size();
      size_t nd = zone_ids.size() * 2;
      if (seen.queries.size() < nq) seen.queries.resize(nq, 0);
      if (seen.answers.size() < na) seen.answers.resize(na, 0);
      if (seen.demand.size() < nd) seen.demand.resize(nd, 0);
      fresh_.resize(nq + na + nd);
      for (size_t i = 0; i < nq; ++i) fresh_[i] = (*slot.queries)[i].load(std::memory_order_relaxed);
      for (size_t i = 0; i < na; ++i) {
        fresh_[nq + i] = (*slot.answers)[i].load(std::memory_order_relaxed);
      }
      for (size_t i = 0; i < nd; ++i) {
        fresh_[nq + na + i] = (*slot.demand)[i].load(std::memory_order_relaxed);
      }
      std::atomic_thread_fence(std::memory_order_acquire);
      // The writer moved this slot to a new minute while we read: some of what we read may
      // belong to that minute. Take nothing now; the next collect reads it under the new tag.
      if (slot.minute.load(std::memory_order_relaxed) != minute) continue;
      for (size_t i = 0; i < nq; ++i) {
        uint32_t delta = fresh_[i] - seen.queries[i];
        if (delta == 0) continue;
        seen.queries[i] = fresh_[i];
        size_t zone = i / Recorder::kPerZone;
        size_t q = (i % Recorder::kPerZone) / kRcodes.size();
        size_t rc = i % kRcodes.size();
        open_queries_[{zone_ids[zone], minute, kQtypes[q], kRcodes[rc]}] += delta;
        total += delta;
      }
      for (size_t i = 0; i < na; ++i) {
        uint32_t delta = fresh_[nq + i] - seen.answers[i];
        if (delta == 0) continue;
        seen.answers[i] = fresh_[nq + i];
        open_answers_[{server_ids[i], minute / 60}] += delta;
      }
      for (size_t i = 0; i < nd; ++i) {
        uint32_t delta = fresh_[nq + na + i] - seen.demand[i];
        if (delta == 0) continue;
        seen.demand[i] = fresh_[nq + na + i];
        open_demand_[{zone_ids[i / 2], static_cast<uint8_t>(i % 2 ? 6 : 4), minute}] += delta;
      }
      seen.minute = minute;
    }
  }
  return total;
}

void QueryStats::seal() {
  Batch b;
  {
    std::lock_guard lock(collect_mu_);
    if (open_queries_.empty() && open_answers_.empty() && open_demand_.empty()) return;
    b.queries.reserve(open_queries_.size());
    for (const auto& [k, count] : open_queries_) {
      const auto& [zone_id, minute, qtype, rcode] = k;
      b.queries.push_back(QueryRow{minute, zone_id, qtype, rcode, count});
    }
    b.answers.reserve(open_answers_.size());
    for (const auto& [k, count] : open_answers_) {
      b.answers.push_back(AnswerRow{k.second, k.first, count});
    }
    b.demand.reserve(open_demand_.size());
    for (const auto& [k, count] : open_demand_) {
      const auto& [zone_id, family, minute] = k;
      b.demand.push_back(DemandCount{minute, zone_id, family, count});
    }
    open_queries_.clear();
    open_answers_.clear();
    open_demand_.clear();
  }
  std::lock_guard lock(queue_mu_);
  b.seq = next_seq_++;
  queue_.push_back(std::move(b));
  enqueue_locked_trim();
}

void QueryStats::enqueue_locked_trim() {
  while (queue_.size() > limits_.max_queued_batches) {
    queue_.pop_front();
    ++dropped_;
  }
}

std::optional<Batch> QueryStats::take() {
  std::lock_guard lock(queue_mu_);
  if (queue_.empty()) return std::nullopt;
  Batch b = std::move(queue_.front());
  queue_.pop_front();
  return b;
}

void QueryStats::put_back(Batch b) {
  std::lock_guard lock(queue_mu_);
  queue_.push_front(std::move(b));
  enqueue_locked_trim();
}

size_t QueryStats::queued() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

uint64_t QueryStats::dropped_batches() const {
  std::lock_guard lock(queue_mu_);
  return dropped_;
}

// --- Writing ---------------------------------------------------------------------------------

namespace {

// One column of the rows as an array parameter.
template <typename T, typename Get>
pg::ArrayBuilder int_array(const std::vector<T>& rows, Get get) {
  pg::ArrayBuilder out;
  for (const auto& r : rows) out.add(static_cast<int64_t>(get(r)));
  return out;
}

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
    // Rows go in primary key order, so concurrent writers lock rows in the same order and
    // cannot deadlock; zones deleted since the counting are skipped rather than failing.
    tx.exec(
        "INSERT INTO dns_query_counts (zone_id, minute, qtype, rcode, count) "
        "SELECT t.z, to_timestamp(t.m * 60), t.q, t.r, t.c "
        "FROM unnest($1::int[], $2::bigint[], $3::int[], $4::smallint[], $5::bigint[]) "
        "  WITH ORDINALITY AS t (z, m, q, r, c, i) "
        "WHERE EXISTS (SELECT 1 FROM zones WHERE zones.id = t.z) ORDER BY t.i "
        "ON CONFLICT (zone_id, minute, qtype, rcode) "
        "DO UPDATE SET count = dns_query_counts.count + EXCLUDED.count",
        zones, minutes, qtypes, rcodes, counts);
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
    tx.exec(
        "INSERT INTO dns_server_answers (server_id, hour, count) "
        "SELECT t.s, to_timestamp(t.h * 3600), t.c "
        "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS t (s, h, c, i) "
        "WHERE EXISTS (SELECT 1 FROM servers WHERE servers.id = t.s) ORDER BY t.i "
        "ON CONFLICT (server_id, hour) "
        "DO UPDATE SET count = dns_server_answers.count + EXCLUDED.count",
        int_array(a, [](const AnswerRow& r) { return r.server_id; }),
        int_array(a, [](const AnswerRow& r) { return r.hour; }),
        int_array(a, [](const AnswerRow& r) { return r.count; }));
  }
  if (!batch.demand.empty()) {
    const auto& d = batch.demand;
    // Added up like dns_query_counts: every DNS server's counts for a minute go into one row,
    // in primary key order (zone_id, family, minute).
    tx.exec(
        "INSERT INTO dns_demand (zone_id, family, minute, count) "
        "SELECT t.z, t.f, to_timestamp(t.m * 60), t.c "
        "FROM unnest($1::int[], $2::smallint[], $3::bigint[], $4::bigint[]) "
        "  WITH ORDINALITY AS t (z, f, m, c, i) "
        "WHERE EXISTS (SELECT 1 FROM zones WHERE zones.id = t.z) ORDER BY t.i "
        "ON CONFLICT (zone_id, family, minute) "
        "DO UPDATE SET count = dns_demand.count + EXCLUDED.count",
        int_array(d, [](const DemandCount& r) { return r.zone_id; }),
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
