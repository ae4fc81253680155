#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

extern char** environ;

namespace timepool::config {
namespace {

using Value = Document::Value;

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// A TOML scalar as text; nullopt for types a config value may not have (dates, tables).
std::optional<std::pair<Value::Kind, std::string>> scalar_text(const toml::node& n) {
  if (auto s = n.as_string()) return std::pair{Value::Kind::String, s->get()};
  if (auto i = n.as_integer()) return std::pair{Value::Kind::Int, std::to_string(i->get())};
  if (auto d = n.as_floating_point()) {
    std::ostringstream os;
    os.precision(17);
    os << d->get();
    return std::pair{Value::Kind::Double, os.str()};
  }
  if (auto b = n.as_boolean()) return std::pair{Value::Kind::Bool, b->get() ? "true" : "false"};
  return std::nullopt;
}

std::string source_of(const toml::node& n, const std::string& origin) {
  const auto& src = n.source();
  std::string out = origin;
  if (src.begin.line > 0) out += ":" + std::to_string(src.begin.line);
  return out;
}

// Flattens one table of a section into `out` ("a.b" for nested tables).
void flatten(const toml::table& t, const std::string& section, const std::string& prefix,
             const std::string& origin, std::map<std::string, Value, std::less<>>& out) {
  for (const auto& [k, node] : t) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto sub = node.as_table()) {
      flatten(*sub, section, key, origin, out);
      continue;
    }
    Value v;
    v.source = "file";
    v.line = static_cast<int>(node.source().begin.line);
    if (auto arr = node.as_array()) {
      v.kind = Value::Kind::Array;
      for (const auto& item : *arr) {
        auto st = scalar_text(item);
        if (!st) {
          throw Error(source_of(item, origin) + ": " + section + "." + key +
                      ": array elements must be strings, numbers or booleans");
        }
        v.items.push_back(st->second);
      }
    } else if (auto st = scalar_text(node)) {
      v.kind = st->first;
      v.text = st->second;
    } else {
      throw Error(source_of(node, origin) + ": " + section + "." + key +
                  ": unsupported value type (use a string, number, boolean or array)");
    }
    out[key] = std::move(v);
  }
}

Document::Value loose_value(std::string text, std::string source) {
  Value v;
  v.kind = Value::Kind::String;
  v.text = std::move(text);
  v.source = std::move(source);
  return v;
}

bool is_loose(const Value& v) { return v.source != "file"; }

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::String: return "a string";
    case Value::Kind::Int: return "an integer";
    case Value::Kind::Double: return "a number";
    case Value::Kind::Bool: return "a boolean";
    case Value::Kind::Array: return "an array";
  }
  return "a value";
}

std::optional<int64_t> parse_int(std::string_view s) {
  std::string t = trim(s);
  std::string_view v = t;
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) return std::nullopt;
  return out;
}

std::optional<double> parse_double(std::string_view s) {
  std::string t = trim(s);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(t.c_str(), &end);
  if (errno != 0 || end != t.c_str() + t.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string t = trim(s);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return std::nullopt;
}

// Splits "a, b" or parses a TOML array literal ["a", "b"].
std::vector<std::string> parse_list(const std::string& text, const std::string& where) {
  std::string t = trim(text);
  std::vector<std::string> out;
  if (!t.empty() && t.front() == '[') {
    toml::table tbl;
    try {
      tbl = toml::parse("v = " + t);
    } catch (const toml::parse_error& e) {
      throw Error(where + ": not a valid array: " + std::string(e.description()));
    }
    const auto* arr = tbl["v"].as_array();
    if (!arr) throw Error(where + ": not a valid array");
    for (const auto& item : *arr) {
      auto st = scalar_text(item);
      if (!st) throw Error(where + ": array elements must be strings, numbers or booleans");
      out.push_back(st->second);
    }
    return out;
  }
  if (t.empty()) return out;
  std::string_view rest = t;
  while (true) {
    auto comma = rest.find(',');
    out.push_back(trim(rest.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

std::string key_of(std::string_view section, std::string_view key) {
  return std::string(section) + "." + std::string(key);
}

void read_env(const char* const* env, std::map<std::string, std::string, std::less<>>& out) {
  if (!env) return;
  for (const char* const* e = env; *e; ++e) {
    std::string_view entry(*e);
    if (entry.substr(0, 9) != "TIMEPOOL_") continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    out[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
}

}  // namespace

std::string env_name(std::string_view section, std::string_view key) {
  std::string out = "TIMEPOOL_";
  for (std::string_view part : {section, std::string_view("."), key}) {
    for (char c : part) {
      if (c == '-' || c == '.') {
        out += '_';
      } else {
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
  }
  return out;
}

Document Document::parse(std::string_view toml_text, std::string origin,
                         const std::vector<std::string>& overrides, const char* const* env) {
  Document doc;
  doc.origin_ = std::move(origin);
  toml::table root;
  try {
    root = toml::parse(toml_text, doc.origin_);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    throw Error(doc.origin_ + ":" + std::to_string(src.begin.line) + ":" +
                std::to_string(src.begin.column) + ": " + std::string(e.description()));
  }
  for (const auto& [name, node] : root) {
    const auto* table = node.as_table();
    if (!table) {
      throw Error(source_of(node, doc.origin_) + ": " + std::string(name.str()) +
                  ": top-level keys must be inside a [section]");
    }
    auto& sec = doc.values_[std::string(name.str())];
    flatten(*table, std::string(name.str()), "", doc.origin_, sec);
  }
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    auto dot = o.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 >= eq) {
      throw Error("--set " + o + ": expected section.key=value");
    }
    std::string section = o.substr(0, dot);
    std::string key = trim(o.substr(dot + 1, eq - dot - 1));
    doc.overrides_[section][key] = loose_value(o.substr(eq + 1), "--set " + section + "." + key);
  }
  read_env(env, doc.env_);
  return doc;
}

Document Document::load(const std::string& path, const std::vector<std::string>& overrides,
                        const char* const* env) {
  if (path.empty()) return parse("", "(no config file)", overrides, env);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(path + ": cannot read");
  return parse(ss.str(), path, overrides, env);
}

Document Document::load(const std::string& path, const std::vector<std::string>& overrides) {
  return load(path, overrides, environ);
}

const Document::Value* Document::find(std::string_view section, std::string_view key) const {
  if (auto s = overrides_.find(section); s != overrides_.end()) {
    if (auto k = s->second.find(key); k != s->second.end()) return &k->second;
  }
  std::string name = env_name(section, key);
  if (auto e = env_.find(name); e != env_.end()) {
    auto [it, inserted] = env_values_.try_emplace(name);
    if (inserted) it->second = loose_value(e->second, "env " + name);
    return &it->second;
  }
  if (auto s = values_.find(section); s != values_.end()) {
    if (auto k = s->second.find(key); k != s->second.end()) return &k->second;
  }
  return nullptr;
}

void Document::mark_used(std::string_view section, std::string_view key) const {
  used_.insert(key_of(section, key));
}

std::string Document::where(std::string_view section, std::string_view key,
                            const Value* v) const {
  std::string k = key_of(section, key);
  if (v && v->source == "file" && v->line > 0) {
    return origin_ + ":" + std::to_string(v->line) + ": " + k;
  }
  if (!v || v->source == "file") return origin_ + ": " + k;
  return origin_ + ": " + k + " (from " + v->source + ")";
}

Section Document::section(std::string_view name) const { return Section(this, std::string(name)); }

void Document::check_unknown(const std::vector<std::string>& known) const {
  auto is_known = [&](const std::string& s) {
    return std::find(known.begin(), known.end(), s) != known.end();
  };
  auto is_other = [&](const std::string& s) {
    return std::find(kAllSections.begin(), kAllSections.end(), s) != kAllSections.end();
  };
  std::vector<std::string> problems;
  auto check_layer = [&](const Layer& layer, const std::string& where) {
    for (const auto& [section, keys] : layer) {
      if (!is_known(section)) {
        if (!is_other(section)) {
          problems.push_back(where + ": unknown section [" + section + "] (known: " +
                             join(kAllSections, ", ") + ")");
        }
        continue;
      }
      for (const auto& [key, v] : keys) {
        if (!used_.count(key_of(section, key))) {
          problems.push_back(v.source == "file" ? this->where(section, key, &v) + ": unknown key"
                                                : where + ": unknown key " + section + "." + key);
        }
      }
    }
  };
  check_layer(values_, origin_);
  check_layer(overrides_, "--set");
  for (const auto& [name, value] : env_) {
    for (const auto& section : known) {
      std::string prefix = env_name(section, "");  // "TIMEPOOL_DNS_"
      if (name.compare(0, prefix.size(), prefix) != 0) continue;
      const std::string& env_key = name;  // clang 14 cannot capture a structured binding
      // TIMEPOOL_MONITOR_API_* belongs to [monitor_api], not to [monitor].
      const bool longer_section = std::any_of(
          kAllSections.begin(), kAllSections.end(), [&](const std::string& other) {
            const std::string p = env_name(other, "");
            return p.size() > prefix.size() && env_key.compare(0, p.size(), p) == 0;
          });
      if (longer_section) continue;
      bool matched = std::any_of(used_.begin(), used_.end(), [&](const std::string& k) {
        auto dot = k.find('.');
        return env_name(k.substr(0, dot), k.substr(dot + 1)) == env_key;
      });
      if (!matched) {
        problems.push_back("environment: " + name + " names no key of [" + section + "]");
      }
    }
  }
  if (!problems.empty()) throw Error(join(problems, "\n"));
}

// --- Section ---------------------------------------------------------------------------------

bool Section::has(std::string_view key) const {
  doc_->mark_used(name_, key);
  return doc_->find(name_, key) != nullptr;
}

std::string Section::get_string(std::string_view key, std::string_view def) const {
  doc_->mark_used(name_, key);
  const auto* v = doc_->find(name_, key);
  if (!v) return std::string(def);
  if (!is_loose(*v) && v->kind != Value::Kind::String) {
    throw Error(doc_->where(name_, key, v) + ": expected a string, got " + kind_name(v->kind));
  }
  return v->text;
}

std::string Section::get_choice(std::string_view key, std::string_view def,
                                const std::vector<std::string>& allowed) const {
  std::string s = get_string(key, def);
  if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
    throw Error(doc_->where(name_, key, doc_->find(name_, key)) + ": \"" + s +
                "\" is not one of " + join(allowed, ", "));
  }
  return s;
}

int64_t Section::get_int(std::string_view key, int64_t def, int64_t min, int64_t max) const {
  doc_->mark_used(name_, key);
  const auto* v = doc_->find(name_, key);
  if (!v) return def;
  std::string where = doc_->where(name_, key, v);
  if (!is_loose(*v) && v->kind != Value::Kind::Int) {
    throw Error(where + ": expected an integer, got " + kind_name(v->kind));
  }
  auto n = parse_int(v->text);
  if (!n) throw Error(where + ": \"" + v->text + "\" is not an integer");
  if (*n < min || *n > max) {
    throw Error(where + ": " + std::to_string(*n) + " is out of range " + std::to_string(min) +
                ".." + std::to_string(max));
  }
  return *n;
}

double Section::get_double(std::string_view key, double def, double min, double max) const {
  doc_->mark_used(name_, key);
  const auto* v = doc_->find(name_, key);
  if (!v) return def;
  std::string where = doc_->where(name_, key, v);
  if (!is_loose(*v) && v->kind != Value::Kind::Double && v->kind != Value::Kind::Int) {
    throw Error(where + ": expected a number, got " + kind_name(v->kind));
  }
  auto d = parse_double(v->text);
  if (!d) throw Error(where + ": \"" + v->text + "\" is not a number");
  if (*d < min || *d > max) {
    std::ostringstream os;
    os << where << ": " << *d << " is out of range " << min << ".." << max;
    throw Error(os.str());
  }
  return *d;
}

bool Section::get_bool(std::string_view key, bool def) const {
  doc_->mark_used(name_, key);
  const auto* v = doc_->find(name_, key);
  if (!v) return def;
  std::string where = doc_->where(name_, key, v);
  if (!is_loose(*v) && v->kind != Value::Kind::Bool) {
    throw Error(where + ": expected a boolean, got " + kind_name(v->kind));
  }
  auto b = parse_bool(v->text);
  if (!b) throw Error(where + ": \"" + v->text + "\" is not a boolean (true or false)");
  return *b;
}

std::vector<std::string> Section::get_strings(std::string_view key,
                                              const std::vector<std::string>& def) const {
  doc_->mark_used(name_, key);
  const auto* v = doc_->find(name_, key);
  if (!v) return def;
  if (is_loose(*v)) return parse_list(v->text, doc_->where(name_, key, v));
  if (v->kind != Value::Kind::Array) {
    throw Error(doc_->where(name_, key, v) + ": expected an array, got " + kind_name(v->kind));
  }
  return v->items;
}

// --- Shared sections -------------------------------------------------------------------------

DatabaseConfig read_database(const Document& doc) {
  auto s = doc.section("database");
  DatabaseConfig c;
  c.conninfo = s.get_string("conninfo", "");
  return c;
}

LogConfig read_log(const Document& doc) {
  auto s = doc.section("log");
  LogConfig c;
  c.level = s.get_choice("level", "info", {"trace", "debug", "info", "warn", "error", "off"});
  c.file = s.get_string("file", "");
  return c;
}

void add_cli_options(CLI::App& app, CliSources& out) {
  app.add_option("-c,--config", out.path, "TOML configuration file (shared by all programs)")
      ->check(CLI::ExistingFile);
  app.add_option("--set", out.sets, "Override one setting: section.key=value (repeatable)")
      ->allow_extra_args(false)
      ->type_name("SECTION.KEY=VALUE");
  app.add_flag("--config-keys", out.list_keys,
               "Print the configuration keys this program reads (section.key, one a line) and "
               "exit");
}

void print_keys(const Document& doc, std::ostream& out) {
  for (const auto& k : doc.keys_read()) out << k << "\n";
}

}  // namespace timepool::config
