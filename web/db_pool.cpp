#include "web/db_pool.hpp"

#include <chrono>

namespace timepool::web {

DbPool::DbPool(std::string conninfo, int size)
    : conninfo_(std::move(conninfo)), size_(size), unopened_(size) {}

DbPool::Lease::~Lease() {
  if (conn_) pool_->give_back(std::move(conn_), generation_);
}

DbPool::Lease DbPool::acquire() {
  std::unique_ptr<pg::Connection> c;
  uint64_t generation = 0;
  {
    std::unique_lock lock(mu_);
    auto ready = [&] { return !idle_.empty() || unopened_ > 0; };
    if (!ready()) {
      // Every connection is lent out: counted, so /metrics shows a pool that is too small.
      ++waits_;
      ++waiting_;
      auto start = std::chrono::steady_clock::now();
      cv_.wait(lock, ready);
      --waiting_;
      wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    } else {
      --unopened_;
    }
    generation = generation_;
  }
  if (!c || !c->ok()) {
    try {
      c = std::make_unique<pg::Connection>(pg::Connection::open(conninfo_));
    } catch (...) {
      std::lock_guard lock(mu_);
      ++unopened_;
      ++connect_errors_;
      cv_.notify_one();
      throw;
    }
  }
  return Lease(*this, std::move(c), generation);
}

void DbPool::lost() {
  std::vector<std::unique_ptr<pg::Connection>> closing;
  {
    std::lock_guard lock(mu_);
    ++generation_;
    unopened_ += static_cast<int>(idle_.size());
    closing.swap(idle_);
    cv_.notify_all();
  }
  // PQfinish outside the lock: it may wait for the dead peer's socket.
}

uint64_t DbPool::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

DbPool::Stats DbPool::stats() const {
  std::lock_guard lock(mu_);
  Stats s;
  s.size = size_;
  s.in_use = size_ - unopened_ - static_cast<int>(idle_.size());
  s.waiting = waiting_;
  s.waits = waits_;
  s.wait_seconds = wait_seconds_;
  s.connect_errors = connect_errors_;
  return s;
}

void DbPool::give_back(std::unique_ptr<pg::Connection> c, uint64_t generation) {
  std::unique_ptr<pg::Connection> closing;
  std::lock_guard lock(mu_);
  if (c->ok() && generation == generation_) {
    idle_.push_back(std::move(c));
  } else {
    closing = std::move(c);
    ++unopened_;
  }
  cv_.notify_one();
}

}  // namespace timepool::web
