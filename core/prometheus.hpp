// The Prometheus text exposition format 0.0.4, written once for every daemon.
//
//   prometheus::TextWriter w;
//   w.counter("timepool_x_total", "Things done.", n);
//   w.family("timepool_y_total", prometheus::Type::kCounter, "Things, by kind.");
//   w.sample("timepool_y_total", {{"kind", "a"}}, 3);
//   w.sample("timepool_y_total", {{"kind", "b\"c"}}, 4);       // escaped: b\"c
//   w.histogram("timepool_z_seconds", "Durations.", {{0.1, 3}, {1, 5}}, 7, 2.5);
//   std::string page = w.take();
//
// Each family gets its # HELP and # TYPE lines once, before its samples. Label values are
// escaped (backslash, double quote, newline) and HELP text too (backslash, newline); names
// are the caller's constants and are not checked. Values: integers exactly, doubles in the
// shortest form that reads back, NaN and +Inf/-Inf as Prometheus spells them.
// Not thread-safe: one writer per rendering.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace timepool::prometheus {

enum class Type { kCounter, kGauge, kHistogram, kUntyped };

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

// One histogram bucket: observations <= upper_bound, cumulative.
struct Bucket {
  double upper_bound = 0;
  uint64_t cumulative_count = 0;
};

class TextWriter {
 public:
  // # HELP and # TYPE of a family whose samples follow.
  void family(std::string_view name, Type type, std::string_view help);
  // One sample line: name{labels} value. Labels are an ordered list (written as given).
  void sample(std::string_view name, std::span<const Label> labels, double value);
  void sample(std::string_view name, std::span<const Label> labels, uint64_t value);
  void sample(std::string_view name, Labels labels, double value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, Labels labels, uint64_t value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  // A family with one unlabelled sample.
  void counter(std::string_view name, std::string_view help, uint64_t value);
  void counter(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, int64_t value);
  // A histogram family: NAME_bucket{le=...} for each bucket and le="+Inf" (= count),
  // NAME_sum and NAME_count.
  void histogram(std::string_view name, std::string_view help, std::span<const Bucket> buckets,
                 uint64_t count, double sum);
  // Lines added by other code (already in the format), appended as they are.
  void raw(std::string_view text) { out_ += text; }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void name_and_labels(std::string_view name, std::span<const Label> labels);
  std::string out_;
};

// "\\" -> "\\\\", "\"" -> "\\\"", newline -> "\\n".
std::string escape_label_value(std::string_view v);
// "\\" -> "\\\\", newline -> "\\n".
std::string escape_help(std::string_view v);
// 3, 0.25, 1e+20, NaN, +Inf, -Inf.
std::string format_value(double v);

// The content type of the page.
inline constexpr const char* kContentType = "text/plain; version=0.0.4";

}  // namespace timepool::prometheus
