// Child processes and ports for integration tests.
//
//   timepool::test::TempDir dir;                       // removed (recursively) on destruction
//   uint16_t port = timepool::test::free_port();       // free for TCP and UDP on 127.0.0.1
//   auto p = timepool::test::Process::start({bin, "--set", "dns.port=" + std::to_string(port)},
//                                            {"TIMEPOOL_LOG_LEVEL=debug"});
//   REQUIRE(timepool::test::wait_for_tcp_port("127.0.0.1", port, 5s));
//   auto st = p.stop();                                // SIGTERM, SIGKILL after the grace time
//   INFO(p.stderr_text());
//   auto r = timepool::test::run({bin, "migrate"}, {"PGDATABASE=x"});   // run to completion
//
// A child runs in its own process group (stop() signals the whole group), with stdin from
// /dev/null (or the given text) and stdout/stderr captured into files in its own TempDir.
// Set TIMEPOOL_KEEP_TEST_FILES=1 to keep those folders for inspection.
// Not thread-safe: one test thread owns a Process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace timepool::test {

using namespace std::chrono_literals;

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "timepool-test");
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string file(const std::string& name) const;
  // Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// How a child ended.
struct ExitStatus {
  bool exited = false;  // returned from main or called exit()
  int code = -1;        // exit code when exited
  int signal = 0;       // terminating signal when !exited
  bool ok() const { return exited && code == 0; }
  std::string describe() const;  // "exit 0", "signal 9"
};

struct ProcessOptions {
  std::vector<std::string> env;         // "NAME=value", added to (or replacing in) our environ
  std::optional<std::string> stdin_text;  // fed on stdin; nullopt: /dev/null
  std::string working_dir;              // empty: ours
};

class Process {
 public:
  // Starts argv[0] (a path, or a name looked up in PATH) with argv. Throws std::runtime_error
  // when the program cannot be started.
  static Process start(const std::vector<std::string>& argv, const ProcessOptions& opts = {});
  static Process start(const std::vector<std::string>& argv, const std::vector<std::string>& env);
  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // Kills the child (SIGKILL to its group) if still running.
  ~Process();

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it when it has).
  bool running();
  // Waits up to `timeout` for the child to exit by itself; nullopt if it is still running.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  // SIGTERM to the group, then SIGKILL if it has not exited within `grace`.
  ExitStatus stop(std::chrono::milliseconds grace = 5s);
  // Sends `sig` to the child's process group.
  void signal(int sig);

  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::string& stdout_path() const { return out_path_; }
  const std::string& stderr_path() const { return err_path_; }
  const TempDir& dir() const { return dir_; }

 private:
  Process(TempDir dir, pid_t pid, std::string out, std::string err)
      : dir_(std::move(dir)), pid_(pid), out_path_(std::move(out)), err_path_(std::move(err)) {}
  TempDir dir_;
  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  std::string out_path_, err_path_;
};

struct RunResult {
  ExitStatus status;
  std::string out;
  std::string err;
};
// Runs a program to completion (killed after `timeout`, then status.signal == SIGKILL).
RunResult run(const std::vector<std::string>& argv, const ProcessOptions& opts = {},
              std::chrono::milliseconds timeout = 60s);

// A port that was free for both TCP and UDP on 127.0.0.1 a moment ago (bind to port 0 and read
// back). Another process may take it before the caller binds it; tests retry if that matters.
uint16_t free_port();

// Polls until a TCP connect to host:port succeeds or `timeout` passes.
bool wait_for_tcp_port(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

// Polls `ready` every `interval` until it returns true or `timeout` passes (for UDP services:
// pass a function that sends a query and checks for an answer).
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = 20ms);

// Reads a whole file ("" if it does not exist).
std::string read_file(const std::string& path);

}  // namespace timepool::test
