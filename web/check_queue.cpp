#include "web/check_queue.hpp"

#include "core/log.hpp"
#include "core/password.hpp"

namespace timepool::web {

namespace {

// A finished check's page stays readable this long (the volunteer reloads, goes back).
constexpr auto kKeepDone = std::chrono::minutes(15);

}  // namespace

std::string client_network(std::string_view remote_addr) {
  auto a = address::parse(remote_addr);
  if (!a) return std::string(remote_addr);
  if (a->is_v4()) return a->to_string();
  auto bytes = a->bytes();
  for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return address::Address::v6(bytes).to_string() + "/64";
}

CheckQueue::CheckQueue(ProbeFn probe, uint16_t port, int threads, int per_client, int max_running)
    : probe_(std::move(probe)), port_(port), per_client_(per_client), max_running_(max_running) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

CheckQueue::~CheckQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

CheckQueue::Start CheckQueue::start(int64_t account_id, const std::string& client, AddRequest add,
                                    std::string* id) {
  std::lock_guard lock(mu_);
  expire_locked();
  int running = 0, of_client = 0;
  for (const auto& [k, j] : jobs_) {
    if (j.done) continue;
    ++running;
    if (j.account_id == account_id) return Start::kAccountBusy;
    if (j.client == client) ++of_client;
  }
  if (of_client >= per_client_) return Start::kClientBusy;
  if (running >= max_running_) return Start::kFull;
  CheckJob job;
  job.id = password::random_token(16);
  job.account_id = account_id;
  job.client = client;
  job.add = std::move(add);
  *id = job.id;
  queue_.push_back(job.id);
  jobs_.emplace(job.id, std::move(job));
  cv_.notify_one();
  return Start::kStarted;
}

std::optional<CheckJob> CheckQueue::find(std::string_view id, int64_t account_id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.account_id != account_id) return std::nullopt;
  return it->second;
}

bool CheckQueue::claim(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || !it->second.done || it->second.claimed) return false;
  it->second.claimed = true;
  return true;
}

void CheckQueue::record(std::string_view id, int status, std::string message, int64_t server_id) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  auto& j = it->second;
  j.finished = true;
  j.outcome_status = status;
  j.outcome_message = std::move(message);
  j.server_id = server_id;
}

void CheckQueue::expire_locked() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    // A claimed check that never recorded (its request failed) is dropped like a finished one.
    if (it->second.done && now - it->second.done_at > kKeepDone) {
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void CheckQueue::work() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::string id = std::move(queue_.front());
    queue_.pop_front();
    auto it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    address::Address a = it->second.add.address;
    lock.unlock();
    ProbeReport report;
    try {
      report = probe_(a, port_);
    } catch (const std::exception& e) {
      report.error = e.what();
    }
    lock.lock();
    it = jobs_.find(id);
    if (it == jobs_.end()) continue;
    it->second.report = std::move(report);
    it->second.done = true;
    it->second.done_at = std::chrono::steady_clock::now();
    log::get("web")->debug("check {} of {}: {}", id, a.to_string(),
                           it->second.report.answered ? "answered" : it->second.report.error);
  }
}

}  // namespace timepool::web
