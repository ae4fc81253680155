// The monitor's side of the monitor API (monitor/api/server.hpp): fetch the assignment, submit
// a batch. HTTPS with the server's certificate verified against a configured CA file (plain
// http:// URLs only where configured so); the key goes as "Authorization: Bearer KEY".
//
// Not thread-safe: one thread uses a client at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/address.hpp"

namespace httplib {
class Client;
}

namespace timepool::monitor {

struct ClientOptions {
  std::string url;      // "https://monitor-api.example.org:8443"
  std::string ca_file;  // PEM bundle to verify the API's certificate; empty: the system's
  std::string key;
  std::chrono::milliseconds timeout{10000};
};

struct AssignedServer {
  int64_t id = 0;
  address::Address address;
  std::string pair;  // candidate, testing or active
  // The server's slot for this monitor (monitor/probe_plan.hpp), Unix ms; 0 when not given.
  int64_t cycle_ms = 0;
  int64_t due_ms = 0;
  int64_t recheck_due_ms = 0;
};

struct Assignment {
  std::string monitor;
  std::string status;  // pending, testing, active, paused
  std::chrono::milliseconds interval{540000};
  std::chrono::milliseconds refresh{30000};
  std::vector<AssignedServer> servers;
  bool probing() const { return status == "active" || status == "testing"; }
};

// Reads an assignment's JSON text; nullopt when it is not one.
std::optional<Assignment> parse_assignment(const std::string& json);

// What became of a request.
enum class Outcome {
  kOk,            // 200: applied (or a duplicate acknowledged again)
  kRefused,       // 400/413/422: this batch will never be accepted
  kUnauthorized,  // 401: the key is unknown
  kNotProbing,    // 403: this monitor is paused or pending
  kRetry,         // no answer, 5xx, anything else: try again later
};

struct Reply {
  Outcome outcome = Outcome::kRetry;
  int status = 0;       // HTTP status; 0 without an answer
  std::string body;     // the answer's body
  std::string message;  // why, for the log
  // The answer's Retry-After (RFC 9110 section 10.2.3, delta-seconds only); nullopt without one.
  std::optional<std::chrono::milliseconds> retry_after;
};

// A Retry-After value in delta-seconds ("120"); nullopt for anything else (an HTTP-date, junk).
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

class ApiClient {
 public:
  // Throws std::runtime_error for a URL that is not http(s)://HOST[:PORT].
  explicit ApiClient(ClientOptions opts);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // `state`: what the monitor reports of itself with the request, as URL query parameters
  // ("clock_ok=0&clock_reason=...", already encoded); empty: nothing.
  Reply get_assignment(const std::string& state = "");
  Reply submit(const std::string& batch_json);

 private:
  Reply judge(const char* what, int status, std::string body, const std::string& error,
              const std::string& retry_after = "");
  ClientOptions opts_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace timepool::monitor
