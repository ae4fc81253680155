// A small pool of PostgreSQL connections shared by the HTTP worker threads. A request borrows
// one connection for its whole duration (Lease); a broken connection is reopened on the next
// borrow. Thread-safe.
#pragma once

#include <condition_variable>
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

 private:
  void give_back(std::unique_ptr<pg::Connection> c);
  std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
  int unopened_;
};

}  // namespace timepool::web
