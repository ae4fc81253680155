#include "web/html.hpp"

#include <vector>

namespace timepool::web {

std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render(std::string_view tmpl, const Vars& vars) {
  std::string out;
  out.reserve(tmpl.size() * 2);
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    out.append(tmpl.substr(i, open - i));
    bool raw = open + 2 < tmpl.size() && tmpl[open + 2] == '{';
    size_t name_start = open + (raw ? 3 : 2);
    std::string_view close_tag = raw ? "}}}" : "}}";
    size_t close = tmpl.find(close_tag, name_start);
    if (close == std::string_view::npos) throw std::logic_error("template: unclosed {{");
    std::string_view name = tmpl.substr(name_start, close - name_start);
    auto it = vars.find(name);
    if (it == vars.end()) {
      throw std::logic_error("template: no value for " + std::string(name));
    }
    out += raw ? it->second : esc(it->second);
    i = close + close_tag.size();
  }
  return out;
}

std::string options(const std::vector<std::pair<std::string, std::string>>& items,
                    std::string_view selected) {
  std::string out;
  for (const auto& [value, label] : items) {
    out += "<option value=\"" + esc(value) + "\"";
    if (value == selected) out += " selected";
    out += '>';
    out += esc(label);
    out += "</option>";
  }
  return out;
}

}  // namespace timepool::web
