// A fresh, migrated database for one integration test, on the cluster that the ctest fixture
// "pg" started (tests/CMakeLists.txt sets PGHOST/PGPORT/PGUSER for tests that require it).
//
//   timepool::test::TestDb db;              // CREATE DATABASE tp_<random>, then migrate
//   auto conn = db.connect();               // a pg::Connection to it
//   std::string ci = db.conninfo();         // for daemons started by the test
// The destructor drops the database (terminating leftover sessions).
#pragma once

#include <string>

#include "core/pg.hpp"

namespace timepool::test {

class TestDb {
 public:
  // migrate=false gives an empty database (for migration tests).
  explicit TestDb(bool migrate = true);
  ~TestDb();
  TestDb(const TestDb&) = delete;
  TestDb& operator=(const TestDb&) = delete;

  const std::string& name() const { return name_; }
  std::string conninfo() const;  // "dbname=tp_xxx" plus host/port/user from the environment
  pg::Connection connect() const;

 private:
  std::string name_;
};

}  // namespace timepool::test
