# Writes a C++ file returning the text of web/static/style.css, web/static/netspeed.js and
# web/API.md (see static_files.hpp).
file(READ ${CSS} text)
file(READ ${JS} js)
file(READ ${API_MD} api_md)
set(body "#include \"web/static_files.hpp\"\nnamespace timepool::web {\nstd::string_view style_css() {\n  static const char kCss[] = R\"tp_css(${text})tp_css\";\n  return {kCss, sizeof kCss - 1};\n}\nstd::string_view netspeed_js() {\n  static const char kJs[] = R\"tp_js(${js})tp_js\";\n  return {kJs, sizeof kJs - 1};\n}\nstd::string_view api_md() {\n  static const char kMd[] = R\"tp_md(${api_md})tp_md\";\n  return {kMd, sizeof kMd - 1};\n}\n}  // namespace timepool::web\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
