// A small pool of PostgreSQL connections shared by the HTTP worker threads. A request borrows
// one connection for its whole duration (Lease); a broken connection is reopened on the next
// borrow. Thread-safe.
//
// Following the primary: the conninfo may name every node with target_session_attrs=read-write,
// so each (re)open reaches whichever node is primary now. When a request meets a connection
// error (pg::Error::is_connection(): the link broke, or the node was demoted and refuses
// writes), the request calls lost(): every idle connection is closed too, since they lead to
// the same lost node, and the next borrows open fresh ones. No restart is needed after a
// failover; only requests in flight at the switch see an error.
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
    Lease(DbPool& pool, std::unique_ptr<pg::Connection> c, uint64_t generation)
        : pool_(&pool), conn_(std::move(c)), generation_(generation) {}
    Lease(Lease&& o) noexcept
        : pool_(o.pool_), conn_(std::move(o.conn_)), generation_(o.generation_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pg::Connection& operator*() { return *conn_; }
    pg::Connection* operator->() { return conn_.get(); }

   private:
    DbPool* pool_;
    std::unique_ptr<pg::Connection> conn_;
    uint64_t generation_;
  };

  // Blocks until a connection is free; opens or reopens it as needed (throws pg::Error when
  // the database cannot be reached).
  Lease acquire();

  // The node behind the pool's connections is gone or no longer the primary: closes the idle
  // connections now and the leased ones when they come back.
  void lost();

  // How many times lost() was called (for tests and logs).
  uint64_t generation() const;

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
  void give_back(std::unique_ptr<pg::Connection> c, uint64_t generation);
  std::string conninfo_;
  int size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
  int unopened_;
  uint64_t generation_ = 0;
  int waiting_ = 0;
  uint64_t waits_ = 0;
  double wait_seconds_ = 0;
  uint64_t connect_errors_ = 0;
};

}  // namespace timepool::web
