#include <catch2/catch.hpp>

#include "web/markdown.hpp"

using namespace timepool::web;

TEST_CASE("markdown: headings, paragraphs, code, lists, tables", "[web][markdown]") {
  auto html = markdown_html(
      "# timepool API\n\nRead-only, `GET` only,\nno **authentication**.\n\n"
      "## `GET /api/zones`\n\n```json\n{\"a\": \"<b>\"}\n```\n\n"
      "- `kind`: global,\n  continent\n- second\n\n"
      "| status | when |\n|---|---|\n| 400 | a `|` in code |\n| 404 | none |\n");
  CHECK(html.find("<h1 id=\"timepool-api\">timepool API</h1>") != std::string::npos);
  CHECK(html.find("<p>Read-only, <code>GET</code> only, no <strong>authentication</strong>.</p>") !=
        std::string::npos);
  CHECK(html.find("<h2 id=\"get-api-zones\"><code>GET /api/zones</code></h2>") != std::string::npos);
  CHECK(html.find("<pre><code>{&quot;a&quot;: &quot;&lt;b&gt;&quot;}\n</code></pre>") !=
        std::string::npos);
  CHECK(html.find("<li><code>kind</code>: global, continent</li><li>second</li>") !=
        std::string::npos);
  CHECK(html.find("<th>status</th><th>when</th>") != std::string::npos);
  CHECK(html.find("<td>400</td><td>a <code>|</code> in code</td>") != std::string::npos);
  CHECK(html.find("<td>404</td><td>none</td>") != std::string::npos);
}

TEST_CASE("markdown: text is escaped and only safe links are made", "[web][markdown]") {
  auto html = markdown_html("<script>x</script> [ok](/api) [bad](javascript:alert(1))");
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;") != std::string::npos);
  CHECK(html.find("<a href=\"/api\">ok</a>") != std::string::npos);
  CHECK(html.find("href=\"javascript") == std::string::npos);
}
