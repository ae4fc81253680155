#include "core/geo.hpp"

#include <endian.h>
#include <maxminddb.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/net.hpp"

namespace timepool::geo {

std::optional<CountryCode> CountryCode::parse(std::string_view text) {
  if (text.size() != 2) return std::nullopt;
  CountryCode cc;
  for (size_t i = 0; i < 2; ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c < 'a' || c > 'z') return std::nullopt;
    cc.c_[i] = c;
  }
  return cc;
}

std::string LoadReport::summary() const {
  std::ostringstream out;
  out << v4_ranges << " IPv4 and " << v6_ranges << " IPv6 ranges (" << merged << " merged, "
      << unknown_skipped << " unknown skipped, " << bad_lines << " bad lines), "
      << (memory_bytes + 512 * 1024) / (1024 * 1024) << " MiB, loaded in "
      << static_cast<int>(load_seconds * 1000) << " ms";
  for (const auto& s : bad_samples) out << "; " << s;
  return out.str();
}

namespace {

using U128 = RangeGeoDb::U128;

U128 key_of(const std::array<uint8_t, 16>& b) {
  uint64_t hi, lo;
  std::memcpy(&hi, b.data(), 8);
  std::memcpy(&lo, b.data() + 8, 8);
  return (U128{be64toh(hi)} << 64) | be64toh(lo);
}

std::array<uint8_t, 16> bytes_of(U128 k) {
  std::array<uint8_t, 16> b{};
  for (int i = 15; i >= 0; --i) {
    b[static_cast<size_t>(i)] = static_cast<uint8_t>(k & 0xff);
    k >>= 8;
  }
  return b;
}

bool is_v4_mapped(const address::Address& a) {
  const auto& b = a.bytes();
  for (size_t i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

uint32_t mapped_v4(const address::Address& a) {
  const auto& b = a.bytes();
  return (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
}

// The index of the highest set bit of x (x != 0).
int msb(uint32_t x) { return 31 - __builtin_clz(x); }
int msb(U128 x) {
  auto hi = static_cast<uint64_t>(x >> 64);
  return hi ? 127 - __builtin_clzll(hi) : 63 - __builtin_clzll(static_cast<uint64_t>(x));
}

// The length of the largest aligned block around `key` that lies inside [lo, hi] (which
// contains key). The block of 2^h addresses around key starts at or above lo exactly when key
// and lo - 1 differ in a bit at position h or higher, i.e. h <= msb(key ^ (lo - 1)); it ends
// at or below hi when h <= msb(key ^ (hi + 1)).
template <typename K>
uint8_t block_prefix(K key, K lo, K hi, int bits) {
  int h = bits;
  if (lo != 0) h = std::min(h, msb(static_cast<K>(key ^ (lo - 1))));
  if (hi != static_cast<K>(~K{0})) h = std::min(h, msb(static_cast<K>(key ^ (hi + 1))));
  return static_cast<uint8_t>(bits - h);
}

// Index of the first element of the sorted [base, base + n) greater than key. Branch-free (the
// loop compiles to conditional moves): the comparisons of a lookup are unpredictable, and
// mispredicted branches cost more than the memory reads here (Khuong and Morin, "Array Layouts
// for Comparison-Based Searching", 2017).
template <typename K>
size_t upper_index(const K* base, size_t n, K key) {
  if (n == 0) return 0;
  const K* p = base;
  while (n > 1) {
    size_t half = n / 2;
    // Fetch both possible next probes while this comparison waits for memory.
    __builtin_prefetch(p + half / 2);
    __builtin_prefetch(p + half + half / 2);
    p = (p[half] <= key) ? p + half : p;
    n -= half;
  }
  return static_cast<size_t>(p - base) + (*p <= key ? 1 : 0);
}

struct Line {
  std::string_view text;
  size_t number;
};

// Calls fn(line) for every non-empty, non-comment line.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
  size_t number = 0;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    fn(Line{line, number});
  }
}

bool split3(std::string_view line, std::string_view out[3]) {
  for (int i = 0; i < 2; ++i) {
    size_t comma = line.find(',');
    if (comma == std::string_view::npos) return false;
    out[i] = line.substr(0, comma);
    line.remove_prefix(comma + 1);
  }
  out[2] = line;
  return out[2].find(',') == std::string_view::npos;
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::optional<U128> parse_v6(std::string_view s) {
  auto a = address::parse(s);
  if (!a || !a->is_v6()) return std::nullopt;
  return key_of(a->bytes());
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw GeoError("geo: cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw GeoError("geo: cannot read " + path);
  return std::move(buf).str();
}

}  // namespace

// Builds the tables of a RangeGeoDb (a friend of it).
class RangeLoader {
 public:
  RangeLoader(RangeGeoDb& db, LoadReport& report) : db_(db), report_(report) {
    code_index_.fill(-1);
  }

  void load_v4(std::string_view text, std::string_view file) {
    load<uint32_t>(text, file, db_.v4_, parse_u32);
    report_.v4_ranges = db_.v4_.low.size();
  }
  void load_v6(std::string_view text, std::string_view file) {
    load<U128>(text, file, db_.v6_, parse_v6);
    report_.v6_ranges = db_.v6_.low.size();
  }

 private:
  template <typename K>
  struct Raw {
    K low, high;
    uint16_t code;
    size_t line;
  };

  void bad(std::string_view file, size_t line, std::string_view why) {
    ++report_.bad_lines;
    if (report_.bad_samples.size() < LoadReport::kMaxBadSamples) {
      report_.bad_samples.push_back(std::string(file) + ":" + std::to_string(line) + ": " +
                                    std::string(why));
    }
  }

  uint16_t code_of(const CountryCode& cc) {
    auto s = cc.str();
    size_t slot = static_cast<size_t>(s[0] - 'a') * 26 + static_cast<size_t>(s[1] - 'a');
    if (code_index_[slot] < 0) {
      code_index_[slot] = static_cast<int16_t>(db_.codes_.size());
      db_.codes_.push_back(cc);
    }
    return static_cast<uint16_t>(code_index_[slot]);
  }

  template <typename K, typename Parse>
  void load(std::string_view text, std::string_view file, RangeGeoDb::Table<K>& table,
            Parse parse_key) {
    std::vector<Raw<K>> raw;
    for_each_line(text, [&](Line line) {
      std::string_view f[3];
      if (!split3(line.text, f)) return bad(file, line.number, "not low,high,CC");
      auto low = parse_key(f[0]);
      auto high = parse_key(f[1]);
      if (!low || !high) return bad(file, line.number, "bad address");
      if (*low > *high) return bad(file, line.number, "low > high");
      if (f[2] == "??") {
        ++report_.unknown_skipped;
        return;
      }
      auto cc = CountryCode::parse(f[2]);
      if (!cc) return bad(file, line.number, "bad country code");
      raw.push_back(Raw<K>{*low, *high, code_of(*cc), line.number});
    });
    // The files are sorted, but sorting costs little and makes the table right regardless.
    std::stable_sort(raw.begin(), raw.end(),
                     [](const Raw<K>& a, const Raw<K>& b) { return a.low < b.low; });
    table.low.reserve(raw.size());
    table.high.reserve(raw.size());
    table.code.reserve(raw.size());
    for (const auto& r : raw) {
      if (!table.low.empty()) {
        K prev_high = table.high.back();
        if (r.low <= prev_high) {
          bad(file, r.line, "overlaps an earlier range");
          continue;
        }
        if (table.code.back() == r.code && prev_high + 1 == r.low) {
          table.high.back() = r.high;
          ++report_.merged;
          continue;
        }
      }
      table.low.push_back(r.low);
      table.high.push_back(r.high);
      table.code.push_back(r.code);
    }
    table.low.shrink_to_fit();
    table.high.shrink_to_fit();
    table.code.shrink_to_fit();
    table.sample.clear();
    for (size_t i = 0; i < table.low.size(); i += RangeGeoDb::kStride) {
      table.sample.push_back(table.low[i]);
    }
    table.sample.shrink_to_fit();
  }

  RangeGeoDb& db_;
  LoadReport& report_;
  std::array<int16_t, 26 * 26> code_index_{};
};

std::unique_ptr<RangeGeoDb> RangeGeoDb::parse(std::string_view v4_text, std::string_view v6_text,
                                              LoadReport* report) {
  auto start = std::chrono::steady_clock::now();
  LoadReport local;
  LoadReport& rep = report ? *report : local;
  rep = LoadReport{};
  std::unique_ptr<RangeGeoDb> db(new RangeGeoDb());
  RangeLoader loader(*db, rep);
  loader.load_v4(v4_text, "geoip");
  loader.load_v6(v6_text, "geoip6");
  rep.memory_bytes = db->memory_bytes();
  rep.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return db;
}

std::unique_ptr<RangeGeoDb> RangeGeoDb::load(const std::string& v4_path,
                                             const std::string& v6_path, LoadReport* report) {
  auto start = std::chrono::steady_clock::now();
  std::string v4 = v4_path.empty() ? std::string() : read_file(v4_path);
  std::string v6 = v6_path.empty() ? std::string() : read_file(v6_path);
  LoadReport local;
  LoadReport& rep = report ? *report : local;
  auto db = parse(v4, v6, &rep);
  // Name the files in the samples, not just the family.
  for (auto& s : rep.bad_samples) {
    if (s.rfind("geoip6:", 0) == 0) {
      s.replace(0, 6, v6_path);
    } else if (s.rfind("geoip:", 0) == 0) {
      s.replace(0, 5, v4_path);
    }
  }
  rep.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (db->v4_size() == 0 && db->v6_size() == 0) {
    throw GeoError("geo: no country ranges in " + v4_path + " / " + v6_path + " (" +
                   rep.summary() + ")");
  }
  return db;
}

template <typename K>
GeoResult RangeGeoDb::find(const Table<K>& t, K key, int bits,
                           const std::vector<CountryCode>& codes) {
  // sample[j - 1] <= key < sample[j], so the first low above key is in block j - 1's keys or
  // is the block's end.
  size_t j = upper_index(t.sample.data(), t.sample.size(), key);
  size_t from = j == 0 ? 0 : (j - 1) * kStride;
  size_t to = std::min(t.low.size(), j * kStride);
  // The first range starting after key.
  size_t next = from + upper_index(t.low.data() + from, to - from, key);
  if (next > 0 && key <= t.high[next - 1]) {
    size_t i = next - 1;
    return GeoResult{codes[t.code[i]], block_prefix<K>(key, t.low[i], t.high[i], bits)};
  }
  // In a gap: the answer "unknown" holds for the whole gap.
  K gap_lo = next > 0 ? static_cast<K>(t.high[next - 1] + 1) : K{0};
  K gap_hi = next < t.low.size() ? static_cast<K>(t.low[next] - 1) : ~K{0};
  return GeoResult{std::nullopt, block_prefix<K>(key, gap_lo, gap_hi, bits)};
}

GeoResult RangeGeoDb::lookup(const address::Address& a) const {
  if (a.is_v4()) return find<uint32_t>(v4_, a.v4_host_order(), 32, codes_);
  if (is_v4_mapped(a)) {
    GeoResult r = find<uint32_t>(v4_, mapped_v4(a), 32, codes_);
    r.prefix_len = static_cast<uint8_t>(r.prefix_len + 96);
    return r;
  }
  return find<U128>(v6_, key_of(a.bytes()), 128, codes_);
}

std::string RangeGeoDb::description() const {
  return "tor-geoipdb " + std::to_string(v4_size()) + "+" + std::to_string(v6_size()) +
         " ranges";
}

size_t RangeGeoDb::memory_bytes() const {
  return (v4_.low.capacity() + v4_.high.capacity() + v4_.sample.capacity()) * sizeof(uint32_t) +
         v4_.code.capacity() * sizeof(uint16_t) +
         (v6_.low.capacity() + v6_.high.capacity() + v6_.sample.capacity()) * sizeof(U128) +
         v6_.code.capacity() * sizeof(uint16_t) + codes_.capacity() * sizeof(CountryCode);
}

RangeGeoDb::V4Range RangeGeoDb::v4_range(size_t i) const {
  return V4Range{v4_.low.at(i), v4_.high.at(i), codes_[v4_.code.at(i)]};
}

RangeGeoDb::V6Range RangeGeoDb::v6_range(size_t i) const {
  return V6Range{bytes_of(v6_.low.at(i)), bytes_of(v6_.high.at(i)), codes_[v6_.code.at(i)]};
}

// --- MaxMind DB ----------------------------------------------------------------------------

struct MmdbGeoDb::Impl {
  MMDB_s mmdb{};
  bool opened = false;
  std::string path;
  ~Impl() {
    if (opened) MMDB_close(&mmdb);
  }
};

MmdbGeoDb::MmdbGeoDb(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MmdbGeoDb::~MmdbGeoDb() = default;

std::unique_ptr<MmdbGeoDb> MmdbGeoDb::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &impl->mmdb);
  if (status != MMDB_SUCCESS) {
    std::string why = MMDB_strerror(status);
    if (status == MMDB_IO_ERROR) why += std::string(" (") + std::strerror(errno) + ")";
    // MMDB_open frees what it allocated on failure; the Impl destructor must not close again.
    throw GeoError("geo: cannot open MaxMind DB " + path + ": " + why);
  }
  impl->opened = true;
  return std::unique_ptr<MmdbGeoDb>(new MmdbGeoDb(std::move(impl)));
}

namespace {

std::optional<CountryCode> iso_code(MMDB_entry_s* entry, const char* key) {
  MMDB_entry_data_s data{};
  if (MMDB_get_value(entry, &data, key, "iso_code", nullptr) != MMDB_SUCCESS) return std::nullopt;
  if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return std::nullopt;
  return CountryCode::parse(std::string_view(data.utf8_string, data.data_size));
}

}  // namespace

GeoResult MmdbGeoDb::lookup(const address::Address& a) const {
  bool v4 = a.is_v4() || is_v4_mapped(a);
  // A mapped address is looked up as the IPv4 address it carries.
  const address::Address key = a.is_v4() || !v4 ? a : address::Address::v4(mapped_v4(a));
  const auto sa = net::Endpoint(key, 0).to_sockaddr();
  // prefix_len in the address's own family; mapped addresses count the 96 mapping bits.
  int full = a.is_v4() ? 32 : 128;
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s r =
      MMDB_lookup_sockaddr(&impl_->mmdb, sa.get(), &mmdb_error);
  if (mmdb_error != MMDB_SUCCESS || !r.found_entry) {
    // An IPv6 lookup in an IPv4-only database, or no entry: not found. The netmask is
    // meaningless then, so claim only the address itself.
    return GeoResult{std::nullopt, static_cast<uint8_t>(full)};
  }
  int netmask = r.netmask;
  if (v4 && impl_->mmdb.metadata.ip_version == 6) netmask = std::max(0, netmask - 96);
  if (!a.is_v4() && v4) netmask += 96;
  netmask = std::clamp(netmask, 0, full);
  auto cc = iso_code(&r.entry, "country");
  if (!cc) cc = iso_code(&r.entry, "registered_country");
  return GeoResult{cc, static_cast<uint8_t>(netmask)};
}

std::string MmdbGeoDb::description() const {
  const auto& md = impl_->mmdb.metadata;
  return "mmdb " + impl_->path + " (" + (md.database_type ? md.database_type : "?") + ", IPv" +
         std::to_string(md.ip_version) + ", " + std::to_string(md.node_count) + " nodes)";
}

std::unique_ptr<GeoDb> open_geo_db(const std::string& mmdb_path, LoadReport* report) {
  // A folder holds tor-geoipdb's two range files (a private copy unpacked from the package).
  std::error_code ec;
  if (!mmdb_path.empty() && std::filesystem::is_directory(mmdb_path, ec)) {
    return RangeGeoDb::load(mmdb_path + "/geoip", mmdb_path + "/geoip6", report);
  }
  if (!mmdb_path.empty()) return MmdbGeoDb::open(mmdb_path);
  return RangeGeoDb::load(RangeGeoDb::kDefaultV4Path, RangeGeoDb::kDefaultV6Path, report);
}

}  // namespace timepool::geo
