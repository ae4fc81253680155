// The live NTP check of a server being added, off the request path. A check of a silent address
// waits up to 7 s (3 packets, 2 s apart, 3 s timeout): done inside the request it held an HTTP
// worker and a database connection all that time, and 4 of them at once stopped the site. Here a
// request only starts a check (a few worker threads of its own, no database) and gets its id;
// the page /servers/check/<id> refreshes until the check is done and then finishes the add.
//
// Limits, so that nobody fills the queue: one running check per account, `per_client` per client
// network (an IPv4 address, an IPv6 /64), `max_running` in all (queued or probing).
//
// Thread-safe: every method may be called from any thread. The destructor waits for the checks
// that are probing (at most one probe's time).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/address.hpp"
#include "web/probe.hpp"

namespace timepool::web {

// What the volunteer asked for: kept with the check, written once it passed.
struct AddRequest {
  address::Address address;
  int netspeed = 0;
  std::string country;
};

struct CheckJob {
  std::string id;  // 32 hex digits, unguessable
  int64_t account_id = 0;
  std::string client;  // the requester's network, for the per-client limit
  AddRequest add;
  bool done = false;   // the probe has finished: report is valid
  ProbeReport report;
  bool claimed = false;   // one page view is finishing the add
  bool finished = false;  // the add was finished: outcome_* say how
  int outcome_status = 0;
  std::string outcome_message;  // the refusal, for the volunteer
  int64_t server_id = 0;        // the new server, when outcome_status is 200
  std::chrono::steady_clock::time_point done_at;
};

// The rate-limit key of a client address: an IPv4 address itself, an IPv6 address's /64; the
// text itself when it is not an address.
std::string client_network(std::string_view remote_addr);

class CheckQueue {
 public:
  CheckQueue(ProbeFn probe, uint16_t port, int threads, int per_client, int max_running);
  ~CheckQueue();
  CheckQueue(const CheckQueue&) = delete;
  CheckQueue& operator=(const CheckQueue&) = delete;

  enum class Start { kStarted, kAccountBusy, kClientBusy, kFull };
  // Queues a check; on kStarted, *id is its id.
  Start start(int64_t account_id, const std::string& client, AddRequest add, std::string* id);
  // A copy of the check `id` if it belongs to `account_id` (others' checks do not exist).
  std::optional<CheckJob> find(std::string_view id, int64_t account_id);
  // True for the one caller that may finish the add of a done check (claims it).
  bool claim(std::string_view id);
  // How the add ended (after claim()).
  void record(std::string_view id, int status, std::string message, int64_t server_id);

 private:
  void work();
  void expire_locked();

  ProbeFn probe_;
  uint16_t port_;
  int per_client_;
  int max_running_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, CheckJob, std::less<>> jobs_;
  std::deque<std::string> queue_;
  std::vector<std::thread> threads_;
};

}  // namespace timepool::web
