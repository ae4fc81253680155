#include "web/db_pool.hpp"

namespace timepool::web {

DbPool::DbPool(std::string conninfo, int size) : conninfo_(std::move(conninfo)), unopened_(size) {}

DbPool::Lease::~Lease() {
  if (conn_) pool_->give_back(std::move(conn_));
}

DbPool::Lease DbPool::acquire() {
  std::unique_ptr<pg::Connection> c;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || unopened_ > 0; });
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    } else {
      --unopened_;
    }
  }
  if (!c || !c->ok()) {
    try {
      c = std::make_unique<pg::Connection>(pg::Connection::open(conninfo_));
    } catch (...) {
      std::lock_guard lock(mu_);
      ++unopened_;
      cv_.notify_one();
      throw;
    }
  }
  return Lease(*this, std::move(c));
}

void DbPool::give_back(std::unique_ptr<pg::Connection> c) {
  std::lock_guard lock(mu_);
  if (c->ok()) {
    idle_.push_back(std::move(c));
  } else {
    ++unopened_;
  }
  cv_.notify_one();
}

}  // namespace timepool::web
