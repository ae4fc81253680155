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

using Lines = std::vector<std::string_view>;

Lines split_lines(std::string_view md) {
  Lines lines;
  for (size_t start = 0; start <= md.size();) {
    size_t nl = md.find('\n', start);
    if (nl == std::string_view::npos) nl = md.size();
    lines.push_back(md.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

bool blank(std::string_view line) { return trim(line).empty(); }

// Each block writer starts at the block's first line i and returns the line after the block.

// Fenced code, kept as it is.
size_t fenced_code(const Lines& lines, size_t i, std::string& out) {
  std::string code;
  ++i;
  while (i < lines.size() && !starts(trim(lines[i]), "```")) {
    code += esc(lines[i]);
    code += '\n';
    ++i;
  }
  out += "<pre><code>" + code + "</code></pre>\n";
  return i + 1;  // past the closing fence
}

// "# " to "#### "; 0 when the line is not a heading.
size_t heading_level(std::string_view t) {
  if (!starts(t, "#")) return 0;
  size_t level = t.find_first_not_of('#');
  return level != std::string_view::npos && level <= 4 && t[level] == ' ' ? level : 0;
}

size_t heading(const Lines& lines, size_t i, std::string& out) {
  std::string_view t = trim(lines[i]);
  size_t level = heading_level(t);
  std::string_view text = trim(t.substr(level));
  std::string h = "h" + std::to_string(level);
  out += "<" + h + " id=\"" + slug(text) + "\">" + inline_html(text) + "</" + h + ">\n";
  return i + 1;
}

// A header row, a rule row, then body rows while lines start with "|".
size_t table(const Lines& lines, size_t i, std::string& out) {
  out += "<div class=\"scroll\"><table><thead><tr>";
  for (auto c : cells(lines[i])) out += "<th>" + inline_html(c) + "</th>";
  out += "</tr></thead><tbody>";
  i += 2;
  while (i < lines.size() && starts(trim(lines[i]), "|")) {
    out += "<tr>";
    for (auto c : cells(lines[i])) out += "<td>" + inline_html(c) + "</td>";
    out += "</tr>";
    ++i;
  }
  out += "</tbody></table></div>\n";
  return i;
}

// A list; indented lines continue the item.
size_t list(const Lines& lines, size_t i, std::string& out) {
  out += "<ul>";
  while (i < lines.size() && starts(trim(lines[i]), "- ")) {
    std::string item(trim(lines[i]).substr(2));
    ++i;
    while (i < lines.size() && !blank(lines[i]) && (lines[i][0] == ' ' || lines[i][0] == '\t') &&
           !starts(trim(lines[i]), "- ")) {
      item += ' ';
      item += trim(lines[i]);
      ++i;
    }
    out += "<li>" + inline_html(item) + "</li>";
  }
  out += "</ul>\n";
  return i;
}

// A paragraph: up to a blank line or the start of another block.
size_t paragraph(const Lines& lines, size_t i, std::string& out) {
  std::string para(trim(lines[i]));
  ++i;
  while (i < lines.size() && !blank(lines[i])) {
    std::string_view n = trim(lines[i]);
    if (starts(n, "```") || starts(n, "#") || starts(n, "- ") || starts(n, "|")) break;
    para += ' ';
    para += n;
    ++i;
  }
  out += "<p>" + inline_html(para) + "</p>\n";
  return i;
}

}  // namespace

std::string markdown_html(std::string_view md) {
  const Lines lines = split_lines(md);
  std::string out;
  size_t i = 0;
  while (i < lines.size()) {
    std::string_view t = trim(lines[i]);
    if (t.empty()) {
      ++i;
    } else if (starts(t, "```")) {
      i = fenced_code(lines, i, out);
    } else if (heading_level(t) > 0) {
      i = heading(lines, i, out);
    } else if (starts(t, "|") && i + 1 < lines.size() && is_rule_row(lines[i + 1])) {
      i = table(lines, i, out);
    } else if (starts(t, "- ")) {
      i = list(lines, i, out);
    } else {
      i = paragraph(lines, i, out);
    }
  }
  return out;
}

}  // namespace timepool::web
