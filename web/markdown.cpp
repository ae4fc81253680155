#include "web/markdown.hpp"

#include <cctype>
#include <vector>

#include "web/html.hpp"

namespace timepool::web {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Inline spans: `code` (literal), **bold**, [text](url) with a relative or http(s) url.
std::string inline_html(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    char ch = s[i];
    if (ch == '`') {
      size_t end = s.find('`', i + 1);
      if (end != std::string_view::npos) {
        out += "<code>" + esc(s.substr(i + 1, end - i - 1)) + "</code>";
        i = end + 1;
        continue;
      }
    } else if (ch == '*' && s.substr(i, 2) == "**") {
      size_t end = s.find("**", i + 2);
      if (end != std::string_view::npos) {
        out += "<strong>" + inline_html(s.substr(i + 2, end - i - 2)) + "</strong>";
        i = end + 2;
        continue;
      }
    } else if (ch == '[') {
      size_t close = s.find("](", i + 1);
      size_t end = close == std::string_view::npos ? close : s.find(')', close + 2);
      if (end != std::string_view::npos) {
        std::string_view url = s.substr(close + 2, end - close - 2);
        if (starts(url, "/") || starts(url, "#") || starts(url, "https://") ||
            starts(url, "http://")) {
          out += "<a href=\"" + esc(url) + "\">" + inline_html(s.substr(i + 1, close - i - 1)) +
                 "</a>";
          i = end + 1;
          continue;
        }
      }
    }
    out += esc(std::string_view(&s[i], 1));
    ++i;
  }
  return out;
}

std::string slug(std::string_view text) {
  std::string out;
  for (char ch : text) {
    auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::vector<std::string_view> cells(std::string_view row) {
  row = trim(row);
  if (starts(row, "|")) row.remove_prefix(1);
  if (!row.empty() && row.back() == '|') row.remove_suffix(1);
  std::vector<std::string_view> out;
  size_t start = 0;
  bool in_code = false;
  for (size_t i = 0; i <= row.size(); ++i) {
    if (i < row.size() && row[i] == '`') in_code = !in_code;
    if (i == row.size() || (row[i] == '|' && !in_code)) {
      out.push_back(trim(row.substr(start, i - start)));
      start = i + 1;
    }
  }
  return out;
}

bool is_rule_row(std::string_view row) {
  row = trim(row);
  if (!starts(row, "|")) return false;
  for (char ch : row)
    if (ch != '|' && ch != '-' && ch != ':' && ch != ' ') return false;
  return true;
}

}  // namespace

std::string markdown_html(std::string_view md) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= md.size();) {
    size_t nl = md.find('\n', start);
    if (nl == std::string_view::npos) nl = md.size();
    lines.push_back(md.substr(start, nl - start));
    start = nl + 1;
  }
  std::string out;
  size_t i = 0;
  auto blank = [&](size_t k) { return trim(lines[k]).empty(); };
  while (i < lines.size()) {
    std::string_view line = lines[i];
    std::string_view t = trim(line);
    if (t.empty()) {
      ++i;
      continue;
    }
    if (starts(t, "```")) {  // fenced code, kept as it is
      std::string code;
      ++i;
      while (i < lines.size() && !starts(trim(lines[i]), "```")) {
        code += esc(lines[i]);
        code += '\n';
        ++i;
      }
      ++i;  // the closing fence
      out += "<pre><code>" + code + "</code></pre>\n";
      continue;
    }
    if (starts(t, "#")) {
      size_t level = t.find_first_not_of('#');
      if (level != std::string_view::npos && level <= 4 && t[level] == ' ') {
        std::string_view text = trim(t.substr(level));
        std::string h = "h" + std::to_string(level);
        out += "<" + h + " id=\"" + slug(text) + "\">" + inline_html(text) + "</" + h + ">\n";
        ++i;
        continue;
      }
    }
    if (starts(t, "|") && i + 1 < lines.size() && is_rule_row(lines[i + 1])) {
      out += "<div class=\"scroll\"><table><thead><tr>";
      for (auto c : cells(t)) out += "<th>" + inline_html(c) + "</th>";
      out += "</tr></thead><tbody>";
      i += 2;
      while (i < lines.size() && starts(trim(lines[i]), "|")) {
        out += "<tr>";
        for (auto c : cells(lines[i])) out += "<td>" + inline_html(c) + "</td>";
        out += "</tr>";
        ++i;
      }
      out += "</tbody></table></div>\n";
      continue;
    }
    if (starts(t, "- ")) {  // a list; indented lines continue the item
      out += "<ul>";
      while (i < lines.size() && starts(trim(lines[i]), "- ")) {
        std::string item(trim(lines[i]).substr(2));
        ++i;
        while (i < lines.size() && !blank(i) && (lines[i][0] == ' ' || lines[i][0] == '\t') &&
               !starts(trim(lines[i]), "- ")) {
          item += ' ';
          item += trim(lines[i]);
          ++i;
        }
        out += "<li>" + inline_html(item) + "</li>";
      }
      out += "</ul>\n";
      continue;
    }
    // A paragraph: up to a blank line or the start of another block.
    std::string para(t);
    ++i;
    while (i < lines.size() && !blank(i)) {
      std::string_view n = trim(lines[i]);
      if (starts(n, "```") || starts(n, "#") || starts(n, "- ") || starts(n, "|")) break;
      para += ' ';
      para += n;
      ++i;
    }
    out += "<p>" + inline_html(para) + "</p>\n";
  }
  return out;
}

}  // namespace timepool::web
