#include "core/periodic_job.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace timepool {

PeriodicJob::PeriodicJob(std::string name, std::chrono::milliseconds interval, Round round,
                         std::shared_ptr<spdlog::logger> log, ReconnectOptions retry)
    : name_(std::move(name)),
      interval_(interval),
      round_(std::move(round)),
      log_(std::move(log)),
      retry_(retry) {}

PeriodicJob::~PeriodicJob() { stop(); }

void PeriodicJob::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void PeriodicJob::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void PeriodicJob::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

int64_t PeriodicJob::rounds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rounds_;
}

int64_t PeriodicJob::failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

void PeriodicJob::loop() {
  Reconnect link(name_, log_, retry_);
  std::chrono::milliseconds wait{0};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, wait, [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
    try {
      auto next = round_();
      link.succeeded();
      wait = next ? std::max(*next, std::chrono::milliseconds(0)) : interval_;
      std::lock_guard<std::mutex> lock(mu_);
      ++rounds_;
    } catch (const std::exception& e) {
      wait = link.failed(e.what());
      std::lock_guard<std::mutex> lock(mu_);
      ++failures_;
    } catch (...) {
      wait = link.failed("unknown error");
      std::lock_guard<std::mutex> lock(mu_);
      ++failures_;
    }
  }
}

PeriodicJob::Round with_connection(
    std::string conninfo,
    std::function<std::optional<std::chrono::milliseconds>(pg::Connection&)> round) {
  auto db = std::make_shared<std::optional<pg::Connection>>();
  return [conninfo = std::move(conninfo), round = std::move(round), db] {
    try {
      if (!*db || !(*db)->ok()) *db = pg::Connection::open(conninfo);
      return round(**db);
    } catch (...) {
      db->reset();
      throw;
    }
  };
}

}  // namespace timepool
