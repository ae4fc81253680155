// The web app's own request and response types. Handlers are plain functions from a Request
// (plus the app context) to a Response, so they run in unit tests without HTTP; routes.cpp is
// the only place that converts from and to cpp-httplib.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace timepool::web {

struct Request {
  std::string method = "GET";  // GET, POST
  std::string path;            // "/scores/192.0.2.1" (decoded, no query)
  std::vector<std::string> matches;  // regex captures of the route (matches[0] is the path)
  std::multimap<std::string, std::string> query;  // from the URL
  std::multimap<std::string, std::string> form;   // from an urlencoded POST body
  std::map<std::string, std::string> cookies;
  std::string remote_addr;  // peer address text, "" if unknown
  std::string authorization;  // the Authorization header ("Bearer ..."), "" if absent
  std::string origin;         // the Origin header ("https://www.example.org"), "" if absent

  // First value of a form field, else of a query parameter; "" when absent.
  std::string param(std::string_view name) const;
  bool has_param(std::string_view name) const;
  std::string match(size_t i) const { return i < matches.size() ? matches[i] : std::string(); }
};

// The name prefix of every cookie when web.secure_cookies is on; the site's code names its
// cookies without it (routes.cpp takes it off the cookies that arrive).
inline constexpr std::string_view kSecureCookiePrefix = "__Host-";

// "https://www.example.org:8443/path" -> "https://www.example.org:8443": scheme and authority,
// lower-cased, as browsers send them in the Origin header; "" when `url` is not http(s).
std::string origin_of(std::string_view url);

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie, Location, ...
  std::string route;  // the route table's pattern that answered, "" when none (for /metrics)

  static Response html(int status, std::string body);
  static Response json(int status, const nlohmann::json& j);
  static Response text(int status, std::string content_type, std::string body);
  // 303 See Other: after a successful POST, so reloading does not post again.
  static Response redirect(std::string location);
  // {"error": message, "status": code} with that status.
  static Response json_error(int status, std::string_view message);
  void add_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::string header(std::string_view name) const;
};

}  // namespace timepool::web
