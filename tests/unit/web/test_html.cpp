#include <catch2/catch.hpp>

#include "web/html.hpp"

using namespace timepool::web;

TEST_CASE("esc escapes the five HTML metacharacters", "[web][html]") {
  CHECK(esc("<script>alert(\"x\")</script>") ==
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
  CHECK(esc("it's & \"q\"") == "it&#39;s &amp; &quot;q&quot;");
  CHECK(esc("plain text 123") == "plain text 123");
  CHECK(esc("") == "");
  CHECK(esc("&amp;") == "&amp;amp;");  // never trusts existing entities
}

TEST_CASE("render escapes {{values}} and inserts {{{raw}}} HTML", "[web][html]") {
  Vars v{{"name", "<b>\"x\"</b>"}, {"html", "<em>ok</em>"}};
  CHECK(render("<p title=\"{{name}}\">{{name}}</p>{{{html}}}", v) ==
        "<p title=\"&lt;b&gt;&quot;x&quot;&lt;/b&gt;\">&lt;b&gt;&quot;x&quot;&lt;/b&gt;</p><em>ok</em>");
  // A value that looks like a template is not expanded again.
  CHECK(render("{{a}}", {{"a", "{{b}}"}}) == "{{b}}");
  CHECK(render("no vars", {}) == "no vars");
  CHECK_THROWS_AS(render("{{missing}}", {}), std::logic_error);
  CHECK_THROWS_AS(render("{{open", {}), std::logic_error);
}

TEST_CASE("options marks the selected value and escapes labels", "[web][html]") {
  auto html = options({{"a", "A <1>"}, {"b\"", "B"}}, "b\"");
  CHECK(html == "<option value=\"a\">A &lt;1&gt;</option><option value=\"b&quot;\" selected>B</option>");
}
