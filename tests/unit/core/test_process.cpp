// tests/support/process: the harness integration tests stand on must itself be right.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "core/net.hpp"
#include "tests/support/process.hpp"

using namespace timepool::test;

TEST_CASE("run captures stdout, stderr, stdin, environment and the exit code", "[process]") {
  ProcessOptions opts;
  opts.env = {"TP_TEST_VAR=hello there"};
  opts.stdin_text = "from stdin\n";
  auto r = run({"/bin/sh", "-c", "echo \"$TP_TEST_VAR\"; cat; echo oops >&2; exit 7"}, opts);
  CHECK(r.status.exited);
  CHECK(r.status.code == 7);
  CHECK_FALSE(r.status.ok());
  CHECK(r.out == "hello there\nfrom stdin\n");
  CHECK(r.err == "oops\n");
  CHECK(r.status.describe() == "exit 7");
  // Looked up in PATH like a shell would.
  CHECK(run({"true"}).status.ok());
  CHECK_THROWS(Process::start({"/nonexistent/program"}));
}

TEST_CASE("stop sends SIGTERM, then SIGKILL after the grace time", "[process]") {
  auto p = Process::start({"sleep", "30"});
  CHECK(p.running());
  CHECK_FALSE(p.wait(std::chrono::milliseconds(50)).has_value());
  auto s = p.stop();
  CHECK_FALSE(s.exited);
  CHECK(s.signal == SIGTERM);

  auto stubborn = Process::start({"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30"});
  REQUIRE(wait_until([&] { return stubborn.stdout_text() == "ready\n"; }, std::chrono::seconds(5)));
  auto t0 = std::chrono::steady_clock::now();
  auto k = stubborn.stop(std::chrono::milliseconds(200));
  CHECK(k.signal == SIGKILL);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(200));
  CHECK_FALSE(stubborn.running());
}

TEST_CASE("a Process going out of scope leaves no child behind", "[process]") {
  pid_t pid = 0;
  {
    auto p = Process::start({"sleep", "30"});
    pid = p.pid();
    CHECK(::kill(pid, 0) == 0);
  }
  CHECK(::kill(pid, 0) != 0);  // killed and reaped
}

TEST_CASE("free_port gives a bindable port - wait_for_tcp_port sees a listener", "[process]") {
  uint16_t port = free_port();
  CHECK(port > 0);
  CHECK_FALSE(wait_for_tcp_port("127.0.0.1", port, std::chrono::milliseconds(100)));

  auto fd = timepool::net::bind_socket(
      timepool::net::Endpoint(*timepool::address::parse("127.0.0.1"), port), SOCK_STREAM);
  REQUIRE(fd);
  REQUIRE(::listen(fd.get(), 4) == 0);
  CHECK(wait_for_tcp_port("127.0.0.1", port, std::chrono::seconds(2)));
  fd.reset();
  CHECK(free_port() != 0);
}

TEST_CASE("TempDir is removed with its contents", "[process]") {
  std::string path;
  {
    TempDir d("tp-unit");
    path = d.path();
    auto f = d.write("sub.txt", "x");
    CHECK(read_file(f) == "x");
    std::filesystem::create_directory(d.file("inner"));
    d.write("inner/y", "y");
    CHECK(std::filesystem::is_directory(path));
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(read_file(path + "/sub.txt").empty());
}
