#include "core/prometheus.hpp"

#include <charconv>
#include <cmath>

namespace timepool::prometheus {
namespace {

constexpr std::span<const Label> kNoLabels;

std::string_view type_name(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
    case Type::kUntyped: return "untyped";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out.push_back(c);
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void TextWriter::family(std::string_view name, Type type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void TextWriter::name_and_labels(std::string_view name, std::span<const Label> labels) {
  out_ += name;
  if (labels.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    out_ += escape_label_value(value);
    out_ += '"';
  }
  out_ += '}';
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, double value) {
  name_and_labels(name, labels);
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, uint64_t value) {
  name_and_labels(name, labels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void TextWriter::counter(std::string_view name, std::string_view help, uint64_t value) {
  family(name, Type::kCounter, help);
  sample(name, kNoLabels, value);
}

void TextWriter::counter(std::string_view name, std::string_view help, double value) {
  family(name, Type::kCounter, help);
  sample(name, kNoLabels, value);
}

void TextWriter::gauge(std::string_view name, std::string_view help, double value) {
  family(name, Type::kGauge, help);
  sample(name, kNoLabels, value);
}

void TextWriter::gauge(std::string_view name, std::string_view help, int64_t value) {
  family(name, Type::kGauge, help);
  name_and_labels(name, kNoLabels);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void TextWriter::histogram(std::string_view name, std::string_view help,
                           std::span<const Bucket> buckets, uint64_t count, double sum) {
  family(name, Type::kHistogram, help);
  const std::string bucket = std::string(name) + "_bucket";
  for (const auto& b : buckets) {
    const std::string le = format_value(b.upper_bound);
    sample(bucket, {{"le", le}}, b.cumulative_count);
  }
  sample(bucket, {{"le", "+Inf"}}, count);
  sample(std::string(name) + "_sum", kNoLabels, sum);
  sample(std::string(name) + "_count", kNoLabels, count);
}

}  // namespace timepool::prometheus
