// A small pool of PostgreSQL connections shared by the HTTP worker threads. A request borrows
// one connection for its whole duration (Lease); a broken connection is reopened on the next
// borrow. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/pg.hpp"

namespace timepool::web {

class DbPool {
 public:
  DbPool(std::string conninfo, int size);

  class Lease {
   public:
    Lease(DbPool& pool, std::unique_ptr<pg::Connection> c) : pool_(&pool), conn_(std::move(c)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::move(o.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pg::Connection& operator*() { return *conn_; }
    pg::Connection* operator->() { return conn_.get(); }

   private:
    DbPool* pool_;
    std::unique_ptr<pg::Connection> conn_;
  };

  // Blocks until a connection is free; opens or reopens it as needed (throws pg::Error when
  // the database cannot be reached).
  Lease acquire();

  // For /metrics (web/metrics.hpp).
  struct Stats {
    int size = 0;
    int in_use = 0;
    int waiting = 0;            // requests blocked in acquire() now
    uint64_t waits = 0;         // acquires that had to wait
    double wait_seconds = 0;    // time spent waiting, in all
    uint64_t connect_errors = 0;
  };
  Stats stats() const;

 private:
  void give_back(std::unique_ptr<pg::Connection> c);
  std::string conninfo_;
  int size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
  int unopened_;
  int waiting_ = 0;
  uint64_t waits_ = 0;
  double wait_seconds_ = 0;
  uint64_t connect_errors_ = 0;
};

}  // namespace timepool::web
