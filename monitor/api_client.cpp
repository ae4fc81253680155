#include "monitor/api_client.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace timepool::monitor {

using nlohmann::json;

std::optional<Assignment> parse_assignment(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  Assignment a;
  auto str = [&](const json& o, const char* k) -> std::optional<std::string> {
    auto it = o.find(k);
    if (it == o.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto ms = [&](const char* k) -> std::optional<std::chrono::milliseconds> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    const int64_t v = it->get<int64_t>();
    if (v < 100 || v > 86400000) return std::nullopt;
    return std::chrono::milliseconds(v);
  };
  auto monitor = str(j, "monitor"), status = str(j, "status");
  auto interval = ms("interval_ms"), refresh = ms("refresh_ms");
  auto servers = j.find("servers");
  if (!monitor || !status || !interval || !refresh || servers == j.end() || !servers->is_array()) {
    return std::nullopt;
  }
  a.monitor = *monitor;
  a.status = *status;
  a.interval = *interval;
  a.refresh = *refresh;
  a.servers.reserve(servers->size());
  for (const auto& s : *servers) {
    if (!s.is_object()) return std::nullopt;
    auto id = s.find("id");
    auto addr = str(s, "address");
    if (id == s.end() || !id->is_number_integer() || !addr) return std::nullopt;
    auto parsed = address::parse(*addr);
    if (!parsed) return std::nullopt;
    AssignedServer as{id->get<int64_t>(), *parsed, str(s, "pair").value_or("candidate")};
    auto num = [&](const char* k) -> int64_t {
      auto it = s.find(k);
      return it != s.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
    };
    as.cycle_ms = num("cycle_ms");
    as.due_ms = num("due_ms");
    as.recheck_due_ms = num("recheck_due_ms");
    // A slot is used only whole and sane (at least 100 ms, at most a day).
    if (as.cycle_ms < 100 || as.cycle_ms > 86400000 || as.due_ms <= 0) as.cycle_ms = as.due_ms = 0;
    if (as.cycle_ms == 0 || as.recheck_due_ms < 0) as.recheck_due_ms = 0;
    a.servers.push_back(std::move(as));
  }
  return a;
}

ApiClient::ApiClient(ClientOptions opts) : opts_(std::move(opts)) {
  const bool https = opts_.url.rfind("https://", 0) == 0;
  const bool http = opts_.url.rfind("http://", 0) == 0;
  if (!https && !http) throw std::runtime_error("not an http:// or https:// URL: " + opts_.url);
  http_ = std::make_unique<httplib::Client>(opts_.url);
  if (!http_->is_valid()) throw std::runtime_error("not a usable URL: " + opts_.url);
  if (https) {
    http_->enable_server_certificate_verification(true);
    if (!opts_.ca_file.empty()) http_->set_ca_cert_path(opts_.ca_file.c_str());
  }
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(opts_.timeout);
  const auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(opts_.timeout - secs);
  http_->set_connection_timeout(secs.count(), usecs.count());
  http_->set_read_timeout(secs.count(), usecs.count());
  http_->set_write_timeout(secs.count(), usecs.count());
  http_->set_bearer_token_auth(opts_.key.c_str());
  http_->set_keep_alive(true);
}

ApiClient::~ApiClient() = default;

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.size() > 9) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::milliseconds(seconds * 1000);
}

Reply ApiClient::judge(const char* what, int status, std::string body, const std::string& error,
                       const std::string& retry_after) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  if (!retry_after.empty()) r.retry_after = parse_retry_after(retry_after);
  if (status == 0) {
    r.outcome = Outcome::kRetry;
    r.message = std::string(what) + ": no answer from " + opts_.url + " (" + error + ")";
    return r;
  }
  std::string detail;
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    detail = j["message"].get<std::string>();
  }
  r.message = std::string(what) + ": HTTP " + std::to_string(status) +
              (detail.empty() ? "" : ": " + detail);
  if (status == 200) {
    r.outcome = Outcome::kOk;
  } else if (status == 400 || status == 413 || status == 422) {
    r.outcome = Outcome::kRefused;
  } else if (status == 401) {
    r.outcome = Outcome::kUnauthorized;
  } else if (status == 403) {
    r.outcome = Outcome::kNotProbing;
  } else {
    r.outcome = Outcome::kRetry;
  }
  return r;
}

Reply ApiClient::get_assignment(const std::string& state) {
  auto res = http_->Get(state.empty() ? std::string("/v1/assignment") : "/v1/assignment?" + state);
  if (!res) return judge("assignment", 0, "", httplib::to_string(res.error()));
  return judge("assignment", res->status, res->body, "", res->get_header_value("Retry-After"));
}

Reply ApiClient::submit(const std::string& batch_json) {
  auto res = http_->Post("/v1/results", batch_json, "application/json");
  if (!res) return judge("results", 0, "", httplib::to_string(res.error()));
  return judge("results", res->status, res->body, "", res->get_header_value("Retry-After"));
}

}  // namespace timepool::monitor
