// A PostgreSQL cluster of the test's own (tests/support/pg-cluster.sh on a private /tmp
// folder), for tests that stop and start the database: the shared test cluster must not be
// touched. Sets PGHOST/PGPORT/PGUSER so timepool::test::TestDb uses it.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace timepool::test {

class OwnCluster {
 public:
  OwnCluster() {
    char tmpl[] = "/tmp/tp-mon-pg-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    run(script() + " start " + dir_);
    setenv("PGHOST", dir_.c_str(), 1);
    setenv("PGPORT", "5432", 1);
    setenv("PGUSER", "postgres", 1);
    setenv("PGDATABASE", "postgres", 1);
  }
  ~OwnCluster() { std::system((script() + " stop " + dir_ + " >/dev/null 2>&1").c_str()); }
  OwnCluster(const OwnCluster&) = delete;
  OwnCluster& operator=(const OwnCluster&) = delete;

  // Stops the server (fast shutdown: every connection is cut), keeping its data.
  void stop() { run(as_owner() + pg_ctl() + " -D " + dir_ + "/data -m fast -w stop >/dev/null"); }
  // Starts it again with the settings pg-cluster.sh uses.
  void start() {
    run(as_owner() + pg_ctl() + " -D " + dir_ + "/data -l " + dir_ + "/server.log -w -o \"-p 5432 -k " +
        dir_ + " -c listen_addresses='' -c fsync=off\" start >/dev/null");
  }
  const std::string& dir() const { return dir_; }

 private:
  static std::string source_dir() {
    std::string f = __FILE__;  // <src>/tests/unit/monitor/own_cluster.hpp
    for (int i = 0; i < 4; ++i) f = f.substr(0, f.rfind('/'));
    return f;
  }
  static std::string script() { return source_dir() + "/tests/support/pg-cluster.sh"; }
  static std::string as_owner() { return getuid() == 0 ? "runuser -u postgres -- " : ""; }
  static std::string pg_ctl() {
    return "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl";
  }
  static void run(const std::string& cmd) {
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
  }
  std::string dir_;
};

}  // namespace timepool::test
