#include "web/http.hpp"

#include <strings.h>

#include <cctype>

namespace timepool::web {

std::string Request::param(std::string_view name) const {
  auto key = std::string(name);
  if (auto it = form.find(key); it != form.end()) return it->second;
  if (auto it = query.find(key); it != query.end()) return it->second;
  return "";
}

bool Request::has_param(std::string_view name) const {
  auto key = std::string(name);
  return form.count(key) > 0 || query.count(key) > 0;
}

std::string origin_of(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  size_t end = url.find_first_of("/?#", scheme_end + 3);
  std::string out(url.substr(0, end == std::string_view::npos ? url.size() : end));
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (out.rfind("http://", 0) != 0 && out.rfind("https://", 0) != 0) return "";
  // The default port is left out by browsers.
  auto strip = [&out](std::string_view scheme, std::string_view port) {
    if (out.rfind(scheme, 0) == 0 && out.size() > port.size() &&
        out.compare(out.size() - port.size(), port.size(), port) == 0) {
      out.resize(out.size() - port.size());
    }
  };
  strip("http://", ":80");
  strip("https://", ":443");
  return out;
}

Response Response::html(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, const nlohmann::json& j) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

Response Response::text(int status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::redirect(std::string location) {
  Response r;
  r.status = 303;
  r.add_header("Location", std::move(location));
  return r;
}

Response Response::json_error(int status, std::string_view message) {
  return json(status, {{"error", std::string(message)}, {"status", status}});
}

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return "";
}

}  // namespace timepool::web
