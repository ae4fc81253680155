// A small Markdown renderer for the project's own documents (web/API.md as the /api page):
// headings, paragraphs, fenced code blocks, "-" lists with continuation lines, pipe tables,
// `code`, **bold** and [text](url) links. Everything is escaped; it is not a general Markdown
// implementation and reads only text this repository ships.
#pragma once

#include <string>
#include <string_view>

namespace timepool::web {

// HTML for `md`. Headings get ids from their text ("GET /api/zones" -> "get-api-zones") so
// sections can be linked.
std::string markdown_html(std::string_view md);

}  // namespace timepool::web
