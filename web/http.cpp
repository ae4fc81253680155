#include "web/http.hpp"

#include <strings.h>

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
