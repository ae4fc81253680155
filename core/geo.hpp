// Country lookup for client addresses (issue: geo-aware answers).
//
// Two implementations behind one interface:
//   - RangeGeoDb: the built-in default that needs no download. It reads the country range files
//     that Debian's tor-geoipdb package ships (/usr/share/tor/geoip with lines
//     "low,high,CC" in decimal IPv4, /usr/share/tor/geoip6 with "low,high,CC" in textual IPv6)
//     once into sorted, compact range tables and answers with a binary search, O(log n).
//   - MmdbGeoDb: a MaxMind DB file (GeoIP2/GeoLite2/DB-IP country) read with libmaxminddb;
//     country.iso_code, else registered_country.iso_code.
//
// Both are immutable once built: lookup() is const, allocation-free and safe to call from any
// number of threads at once. There is no global state; the owner keeps the object (usually a
// std::unique_ptr<GeoDb> or shared_ptr held next to the DNS snapshot) alive while lookups run.
// Construction failures throw GeoError; a lookup never throws.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"

namespace timepool::geo {

class GeoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An ISO 3166-1 alpha-2 code, kept in lower case because zone names are lower case ("de").
class CountryCode {
 public:
  // Two ASCII letters in any case; nullopt otherwise ("??", "", "d1", "deu").
  static std::optional<CountryCode> parse(std::string_view text);
  std::string_view str() const { return {c_.data(), c_.size()}; }
  friend bool operator==(const CountryCode&, const CountryCode&) = default;

 private:
  std::array<char, 2> c_{};
};

// The answer for one address. prefix_len is the length of the largest CIDR block around the
// address that the database maps as a whole to the same answer (same country, or equally
// unknown), in the address's own family: 0..32 for IPv4, 0..128 for IPv6. It is what an
// EDNS Client Subnet answer may echo as its scope (RFC 7871 section 7.2.1).
struct GeoResult {
  std::optional<CountryCode> country;
  uint8_t prefix_len = 0;
};

class GeoDb {
 public:
  virtual ~GeoDb() = default;
  // Thread-safe, never throws. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are looked up as
  // IPv4; their prefix_len then counts the 96 bits of the mapping prefix.
  virtual GeoResult lookup(const address::Address& a) const = 0;
  std::optional<CountryCode> country(const address::Address& a) const { return lookup(a).country; }
  // One line for logs and the debug TXT record ("tor-geoipdb 385392+276389 ranges").
  virtual std::string description() const = 0;
};

// What loading the range files found. Bad lines are counted and the first few kept (with
// their file and line number) so an operator can see what was wrong; they never stop a load.
struct LoadReport {
  size_t v4_ranges = 0;        // ranges kept (after merging adjacent ranges of one country)
  size_t v6_ranges = 0;
  size_t unknown_skipped = 0;  // "??" lines: no country, looked up as not found
  size_t merged = 0;           // adjacent same-country ranges joined into one
  size_t bad_lines = 0;        // unparsable, low > high, overlapping an earlier range
  std::vector<std::string> bad_samples;  // at most kMaxBadSamples messages
  size_t memory_bytes = 0;     // heap held by the tables
  double load_seconds = 0;

  static constexpr size_t kMaxBadSamples = 5;
  std::string summary() const;
};

class RangeGeoDb final : public GeoDb {
 public:
  static constexpr const char* kDefaultV4Path = "/usr/share/tor/geoip";
  static constexpr const char* kDefaultV6Path = "/usr/share/tor/geoip6";

  // Reads both files. An empty path skips that family (every lookup there is not found).
  // Throws GeoError when a named file cannot be read, or when both tables end up empty.
  static std::unique_ptr<RangeGeoDb> load(const std::string& v4_path, const std::string& v6_path,
                                          LoadReport* report = nullptr);
  // Parses file contents already in memory (tests, fuzzing). Never throws on bad content.
  static std::unique_ptr<RangeGeoDb> parse(std::string_view v4_text, std::string_view v6_text,
                                           LoadReport* report = nullptr);

  GeoResult lookup(const address::Address& a) const override;
  std::string description() const override;

  size_t v4_size() const { return v4_.low.size(); }
  size_t v6_size() const { return v6_.low.size(); }
  size_t memory_bytes() const;

  // The stored ranges, for tests that pick addresses from the data itself.
  struct V4Range {
    uint32_t low, high;
    CountryCode country;
  };
  struct V6Range {
    std::array<uint8_t, 16> low, high;
    CountryCode country;
  };
  V4Range v4_range(size_t i) const;
  V6Range v6_range(size_t i) const;

  using U128 = unsigned __int128;

 private:
  RangeGeoDb() = default;
  // Parallel arrays (structure of arrays): the search touches only `low`. `sample` holds every
  // kStride-th low key: a binary search there stays in cache (about 100 KB for IPv4, 280 KB for
  // IPv6), and the final search reads one block of kStride keys (IPv4: one cache line).
  static constexpr size_t kStride = 16;
  template <typename K>
  struct Table {
    std::vector<K> low, high;
    std::vector<uint16_t> code;  // index into codes_
    std::vector<K> sample;       // low[0], low[kStride], low[2 * kStride], ...
  };
  template <typename K>
  static GeoResult find(const Table<K>& t, K key, int bits, const std::vector<CountryCode>& codes);

  Table<uint32_t> v4_;
  Table<U128> v6_;
  std::vector<CountryCode> codes_;
  friend class RangeLoader;
};

class MmdbGeoDb final : public GeoDb {
 public:
  // Opens (memory-maps) the file. Throws GeoError naming the path and libmaxminddb's reason
  // for a missing, unreadable or corrupt file.
  static std::unique_ptr<MmdbGeoDb> open(const std::string& path);
  ~MmdbGeoDb() override;
  MmdbGeoDb(const MmdbGeoDb&) = delete;
  MmdbGeoDb& operator=(const MmdbGeoDb&) = delete;

  GeoResult lookup(const address::Address& a) const override;
  std::string description() const override;

 private:
  struct Impl;
  explicit MmdbGeoDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The configured database: the .mmdb at `mmdb_path` when it is not empty (or, when it names a
// folder, the tor-geoipdb range files `geoip` and `geoip6` in it), else the tor-geoipdb
// ranges at their Debian paths. Throws GeoError. `report` is filled for the range tables only.
std::unique_ptr<GeoDb> open_geo_db(const std::string& mmdb_path, LoadReport* report = nullptr);

}  // namespace timepool::geo
