// Decoding of what browsers send: application/x-www-form-urlencoded bodies and query strings,
// and Cookie headers. Pure functions over untrusted text: never throw, never allocate beyond the
// input's size.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace timepool::web {

// "%41+b" -> "A b". Invalid escapes are kept literally ("%zz" stays "%zz").
std::string url_decode(std::string_view s, bool plus_is_space = true);
// For building links: every byte outside [A-Za-z0-9-._~] is %XX-encoded.
std::string url_encode(std::string_view s);

// "a=1&b=2&a=3" -> {a:1, a:3, b:2}. Empty pairs are skipped; a key without '=' gets "".
// At most `max_fields` fields are kept (the rest ignored) so a huge body cannot explode memory.
std::multimap<std::string, std::string> parse_urlencoded(std::string_view s,
                                                         size_t max_fields = 200);

// Whether decoded form or query text may be used as text: well-formed UTF-8 (RFC 3629: no
// overlong forms, no UTF-16 surrogates, nothing above U+10FFFF) without a NUL (PostgreSQL
// refuses the first, C strings cut at the second).
enum class TextProblem { kNone, kInvalidUtf8, kNul };
TextProblem check_text(std::string_view s);

// "a=1; b=2" -> {a:1, b:2}; the first of two cookies with one name wins.
std::map<std::string, std::string> parse_cookies(std::string_view header);

}  // namespace timepool::web
