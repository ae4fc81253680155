// MmdbGeoDb against real MaxMind DB files. No such file ships with Debian, so the test writes
// small ones itself, following the MaxMind DB format 2.0 specification (a binary search tree
// of 24-bit records, a 16-byte separator, the data section, then the metadata after the
// "\xAB\xCD\xEFMaxMind.com" marker), and opens them with the real libmaxminddb.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/geo.hpp"

using namespace timepool::geo;
using timepool::address::parse;

namespace {

// --- data section encoding (spec section "Output Data Section") ---
enum Type { kPointer = 1, kString = 2, kUint16 = 5, kUint32 = 6, kMap = 7, kUint64 = 9,
            kArray = 11 };

void control(std::string& out, int type, size_t size) {
  bool extended = type > 7;
  uint8_t t = static_cast<uint8_t>(extended ? 0 : type) << 5;
  std::string size_bytes;
  if (size < 29) {
    t |= static_cast<uint8_t>(size);
  } else if (size < 29 + 256) {
    t |= 29;
    size_bytes.push_back(static_cast<char>(size - 29));
  } else {
    t |= 30;
    size -= 285;
    size_bytes.push_back(static_cast<char>(size >> 8));
    size_bytes.push_back(static_cast<char>(size & 0xff));
  }
  out.push_back(static_cast<char>(t));
  if (extended) out.push_back(static_cast<char>(type - 7));
  out += size_bytes;
}
void str(std::string& out, const std::string& s) {
  control(out, kString, s.size());
  out += s;
}
void uint(std::string& out, int type, uint64_t v) {
  std::string bytes;
  for (; v; v >>= 8) bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
  control(out, type, bytes.size());
  out += bytes;
}
void map(std::string& out, size_t pairs) { control(out, kMap, pairs); }

// {key: {"iso_code": code}} or, with code empty, {key: {"names": {"en": "Nowhere"}}}
std::string country_record(const std::string& key, const std::string& code) {
  std::string d;
  map(d, 1);
  str(d, key);
  map(d, 1);
  if (code.empty()) {
    str(d, "names");
    map(d, 1);
    str(d, "en");
    str(d, "Nowhere");
  } else {
    str(d, "iso_code");
    str(d, code);
  }
  return d;
}

// --- search tree ---
struct Node {
  std::unique_ptr<Node> child[2];
  int data[2] = {-1, -1};  // data section offset of a leaf record, -1 when none
};

void insert(Node& root, const std::vector<int>& bits, int data_offset) {
  Node* n = &root;
  for (size_t i = 0; i + 1 < bits.size(); ++i) {
    auto& c = n->child[bits[i]];
    if (!c) c = std::make_unique<Node>();
    n = c.get();
  }
  n->data[bits.back()] = data_offset;
}

std::vector<int> prefix_bits(const std::array<uint8_t, 16>& bytes, int skip, int len) {
  std::vector<int> bits;
  for (int i = skip; i < skip + len; ++i) bits.push_back((bytes[i / 8] >> (7 - i % 8)) & 1);
  return bits;
}

struct Entry {
  const char* network;  // address text
  int prefix;           // in the address's own family
  std::string record;
};

std::string build_mmdb(int ip_version, const std::vector<Entry>& entries) {
  std::string data;
  Node root;
  for (const auto& e : entries) {
    auto a = parse(e.network);
    REQUIRE(a);
    int offset = static_cast<int>(data.size());
    data += e.record;
    std::vector<int> bits;
    if (a->is_v4()) {
      std::array<uint8_t, 16> b{};
      std::copy(a->bytes().begin(), a->bytes().begin() + 4, b.begin() + 12);
      bits = ip_version == 6 ? prefix_bits(b, 0, 96 + e.prefix) : prefix_bits(b, 96, e.prefix);
    } else {
      bits = prefix_bits(a->bytes(), 0, e.prefix);
    }
    insert(root, bits, offset);
  }
  // Number the nodes breadth first, then write each as two 24-bit records.
  std::vector<Node*> order{&root};
  for (size_t i = 0; i < order.size(); ++i) {
    for (auto& c : order[i]->child) {
      if (c) order.push_back(c.get());
    }
  }
  uint32_t n = static_cast<uint32_t>(order.size());
  std::string tree;
  for (Node* node : order) {
    for (int side = 0; side < 2; ++side) {
      uint32_t rec = n;  // empty
      if (node->child[side]) {
        rec = static_cast<uint32_t>(
            std::find(order.begin(), order.end(), node->child[side].get()) - order.begin());
      } else if (node->data[side] >= 0) {
        rec = n + 16 + static_cast<uint32_t>(node->data[side]);
      }
      tree.push_back(static_cast<char>(rec >> 16));
      tree.push_back(static_cast<char>((rec >> 8) & 0xff));
      tree.push_back(static_cast<char>(rec & 0xff));
    }
  }
  std::string meta = "\xAB\xCD\xEFMaxMind.com";
  map(meta, 9);
  str(meta, "node_count");
  uint(meta, kUint32, n);
  str(meta, "record_size");
  uint(meta, kUint16, 24);
  str(meta, "ip_version");
  uint(meta, kUint16, static_cast<uint64_t>(ip_version));
  str(meta, "database_type");
  str(meta, "Timepool-Test-Country");
  str(meta, "languages");
  control(meta, kArray, 1);
  str(meta, "en");
  str(meta, "binary_format_major_version");
  uint(meta, kUint16, 2);
  str(meta, "binary_format_minor_version");
  uint(meta, kUint16, 0);
  str(meta, "build_epoch");
  uint(meta, kUint64, 1764115200);
  str(meta, "description");
  map(meta, 1);
  str(meta, "en");
  str(meta, "test database");
  return tree + std::string(16, '\0') + data + meta;
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& content) {
    char p[] = "/tmp/timepool-mmdb-XXXXXX";
    int fd = mkstemp(p);
    REQUIRE(fd >= 0);
    close(fd);
    path = p;
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { unlink(path.c_str()); }
};

std::string cc(const GeoResult& r) { return r.country ? std::string(r.country->str()) : "-"; }

timepool::address::Address a(const char* t) { return *parse(t); }

}  // namespace

TEST_CASE("MmdbGeoDb reads country, registered_country and the network size (IPv6 tree)") {
  TempFile f(build_mmdb(6, {
                               {"1.2.3.0", 24, country_record("country", "DE")},
                               {"5.6.0.0", 16, country_record("registered_country", "FR")},
                               {"9.9.9.0", 24, country_record("country", "")},
                               {"2001:db8::", 32, country_record("country", "jp")},
                           }));
  auto db = MmdbGeoDb::open(f.path);
  CHECK(db->description().find("Timepool-Test-Country, IPv6") != std::string::npos);

  auto r = db->lookup(a("1.2.3.4"));
  CHECK(cc(r) == "de");
  CHECK(r.prefix_len == 24);
  r = db->lookup(a("::ffff:1.2.3.200"));
  CHECK(cc(r) == "de");
  CHECK(r.prefix_len == 120);
  r = db->lookup(a("5.6.250.1"));
  CHECK(cc(r) == "fr");
  CHECK(r.prefix_len == 16);
  r = db->lookup(a("9.9.9.9"));  // an entry without iso_code
  CHECK(cc(r) == "-");
  r = db->lookup(a("2001:db8:ffff::1"));
  CHECK(cc(r) == "jp");
  CHECK(r.prefix_len == 32);
  CHECK(cc(db->lookup(a("1.2.4.1"))) == "-");
  CHECK(cc(db->lookup(a("2001:db9::1"))) == "-");
  CHECK(db->country(a("1.2.3.0")) == CountryCode::parse("DE"));

  auto viaconfig = open_geo_db(f.path);
  CHECK(viaconfig->country(a("5.6.0.0")) == CountryCode::parse("fr"));
}

TEST_CASE("MmdbGeoDb with an IPv4-only tree answers IPv6 lookups with not found") {
  TempFile f(build_mmdb(4, {{"10.20.0.0", 15, country_record("country", "NL")}}));
  auto db = MmdbGeoDb::open(f.path);
  auto r = db->lookup(a("10.21.255.255"));
  CHECK(cc(r) == "nl");
  CHECK(r.prefix_len == 15);
  CHECK(cc(db->lookup(a("10.22.0.0"))) == "-");
  CHECK(cc(db->lookup(a("2001:db8::1"))) == "-");
  CHECK(cc(db->lookup(a("::ffff:10.20.1.1"))) == "nl");
}

TEST_CASE("MmdbGeoDb refuses a file cut short") {
  std::string good = build_mmdb(6, {{"1.2.3.0", 24, country_record("country", "DE")}});
  TempFile f(good.substr(0, good.size() - 40));  // metadata cut off
  CHECK_THROWS_AS(MmdbGeoDb::open(f.path), GeoError);
}
