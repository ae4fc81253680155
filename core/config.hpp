// Configuration shared by every timepool program: one TOML file with a section per program,
// overridable by environment variables and command-line flags.
//
// Precedence (later wins): built-in defaults < the TOML file < environment variables named
// TIMEPOOL_<SECTION>_<KEY> (upper case, '-' and '.' become '_') < `--set section.key=value`.
//
// Each program reads the sections it owns into its own immutable struct, once, at start:
//   auto doc = config::Document::load(path, overrides);
//   auto dns = doc.section("dns");
//   int ttl = dns.get_int("ttl", 150, 30, 86400);
//   doc.check_unknown({"database", "log", "dns"});  // throws on keys nobody asked for
// Every problem throws config::Error with a message naming the file, the key and the reason
// ("timepool.toml: dns.ttl: 10 is out of range 30..86400"). Runtime code never fails on config.
//
// Values from the environment and from --set are text; getters convert them ("150" for an
// integer, "true"/"false"/"1"/"0"/"yes"/"no"/"on"/"off" for a bool, a TOML array such as
// ["a","b"] or a comma-separated list for get_strings). A nested TOML table [dns.listen] appears
// as keys "listen.<key>" of section "dns" (env TIMEPOOL_DNS_LISTEN_<KEY>).
//
// Thread safety: a Document is built and read by one thread at startup.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <iosfwd>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace timepool::config {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Document;

// A view of one [section]; getters record the keys they read so Document can report the rest.
// It points into its Document: use it only while the Document lives (and is not moved).
class Section {
 public:
  std::string get_string(std::string_view key, std::string_view def) const;
  // One of `allowed` (exact match), else Error naming the allowed values.
  std::string get_choice(std::string_view key, std::string_view def,
                         const std::vector<std::string>& allowed) const;
  int64_t get_int(std::string_view key, int64_t def, int64_t min, int64_t max) const;
  double get_double(std::string_view key, double def, double min, double max) const;
  bool get_bool(std::string_view key, bool def) const;
  std::vector<std::string> get_strings(std::string_view key,
                                       const std::vector<std::string>& def) const;
  bool has(std::string_view key) const;
  const std::string& name() const { return name_; }

 private:
  friend class Document;
  Section(const Document* doc, std::string name) : doc_(doc), name_(std::move(name)) {}
  const Document* doc_;
  std::string name_;
};

class Document {
 public:
  // `path` empty: no file, defaults plus overrides only. A missing or unparsable file throws.
  // `env` is the environment to read (nullptr-terminated, like `environ`); nullptr: none.
  static Document load(const std::string& path, const std::vector<std::string>& overrides,
                       const char* const* env);
  // Same, reading the process environment.
  static Document load(const std::string& path, const std::vector<std::string>& overrides);
  // Parses TOML text directly (tests, fuzzing); `origin` names it in errors.
  static Document parse(std::string_view toml_text, std::string origin,
                        const std::vector<std::string>& overrides = {},
                        const char* const* env = nullptr);

  Section section(std::string_view name) const;
  // Call after reading every key. The file is shared by all programs, so: a section in
  // `known` (the caller's own) must have no key that was never read; a section of another
  // timepool program (kAllSections) is left to its owner; any other section is unknown.
  // Environment variables TIMEPOOL_<SECTION>_* of a `known` section that match no key read are
  // reported too. Throws Error listing every problem (file, key, reason).
  void check_unknown(const std::vector<std::string>& known) const;
  const std::string& origin() const { return origin_; }
  // Every "section.key" a getter has read so far, sorted: after reading the configuration,
  // the keys this program takes (`--config-keys`; the man pages' test compares them).
  std::vector<std::string> keys_read() const { return {used_.begin(), used_.end()}; }

  // Internal: raw value of section.key as written ("" if absent), for Section.
  struct Value {
    enum class Kind { String, Int, Double, Bool, Array } kind;
    std::string text;                 // scalar as text
    std::vector<std::string> items;   // Array elements as text
    std::string source;               // "file", "env TIMEPOOL_DNS_TTL", "--set dns.ttl"
    int line = 0;                     // line in the file (source "file"), 0 if unknown
  };
  // Looks in --set, then the environment, then the file; nullptr if absent.
  const Value* find(std::string_view section, std::string_view key) const;
  void mark_used(std::string_view section, std::string_view key) const;
  // "timepool.toml:12: dns.ttl" or "timepool.toml: dns.ttl (from env TIMEPOOL_DNS_TTL)".
  std::string where(std::string_view section, std::string_view key, const Value* v) const;

 private:
  using Layer = std::map<std::string, std::map<std::string, Value, std::less<>>, std::less<>>;
  std::string origin_;
  Layer values_;                                // from the file
  Layer overrides_;                             // from --set
  std::map<std::string, std::string, std::less<>> env_;  // TIMEPOOL_* variables
  mutable std::map<std::string, Value, std::less<>> env_values_;  // parsed on first find()
  mutable std::set<std::string, std::less<>> used_;  // "section.key"
};

// Every section some timepool program reads; check_unknown() leaves these to their owners.
inline const std::vector<std::string> kAllSections = {"database", "log", "dns", "monitor",
                                                      "monitor_api", "web", "mail"};

// The environment variable for section.key: TIMEPOOL_DNS_TTL for ("dns", "ttl").
std::string env_name(std::string_view section, std::string_view key);

// The [database] section every daemon shares.
struct DatabaseConfig {
  // libpq connection string; empty means libpq's defaults and PG* environment variables.
  std::string conninfo;
};
DatabaseConfig read_database(const Document& doc);

// The [log] section.
struct LogConfig {
  std::string level = "info";  // trace debug info warn error
  std::string file;            // also log to this file when set
};
LogConfig read_log(const Document& doc);

// Where a program's settings come from on its command line: -c/--config FILE (must exist)
// and --set section.key=value (repeatable), for Document::load(path, sets).
struct CliSources {
  std::string path;
  std::vector<std::string> sets;
  bool list_keys = false;  // --config-keys
};
// Adds those options to `app` (-c/--config, --set, --config-keys); `out` is filled when app
// parses.
void add_cli_options(CLI::App& app, CliSources& out);
// The --config-keys answer: every key `doc` was asked for, one "section.key" a line.
void print_keys(const Document& doc, std::ostream& out);

}  // namespace timepool::config
