#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/net.hpp"

extern char** environ;

namespace timepool::test {
namespace {

bool keep_files() {
  const char* v = std::getenv("TIMEPOOL_KEEP_TEST_FILES");
  return v && *v && std::string(v) != "0";
}

ExitStatus decode(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

// Our environment with `extra` ("NAME=value") added or replacing entries of the same name.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  auto add = [&](const std::string& entry) {
    auto eq = entry.find('=');
    if (eq == std::string::npos) return;
    vars[entry.substr(0, eq)] = entry;
  };
  for (char** e = environ; e && *e; ++e) add(*e);
  for (const auto& e : extra) add(e);
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (auto& [k, v] : vars) out.push_back(std::move(v));
  return out;
}

}  // namespace

// --- TempDir ---------------------------------------------------------------------------------

TempDir::TempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  path_ = buf.data();
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir::~TempDir() {
  if (path_.empty()) return;
  if (keep_files()) {
    std::fprintf(stderr, "keeping %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const { return path_ + "/" + name; }

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p);
  return p;
}

// --- ExitStatus ------------------------------------------------------------------------------

std::string ExitStatus::describe() const {
  if (exited) return "exit " + std::to_string(code);
  if (signal) return "signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
  return "still running";
}

// --- Process ---------------------------------------------------------------------------------

Process Process::start(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  ProcessOptions opts;
  opts.env = env;
  return start(argv, opts);
}

Process Process::start(const std::vector<std::string>& argv, const ProcessOptions& opts) {
  if (argv.empty()) throw std::invalid_argument("Process::start: empty argv");
  std::string base = std::filesystem::path(argv[0]).filename().string();
  TempDir dir("timepool-proc-" + base);
  std::string out = dir.file("stdout");
  std::string err = dir.file("stderr");
  std::string in = "/dev/null";
  if (opts.stdin_text) in = dir.write("stdin", *opts.stdin_text);

  std::vector<std::string> env = merged_env(opts.env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!opts.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&fa, opts.working_dir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group (so stop() reaches its children too), default signal handling and
  // an empty mask whatever the test runner set for us.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, argp[0], &fa, &attr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  return Process(std::move(dir), pid, out, err);
}

Process::Process(Process&& other) noexcept
    : dir_(std::move(other.dir_)),
      pid_(other.pid_),
      status_(other.status_),
      out_path_(std::move(other.out_path_)),
      err_path_(std::move(other.err_path_)) {
  other.pid_ = -1;
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

bool Process::running() {
  if (pid_ <= 0 || status_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = decode(st);
    ::kill(-pid_, SIGKILL);  // leftovers of its group, if any
    return false;
  }
  return r == 0;
}

std::optional<ExitStatus> Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  return status_;
}

void Process::signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(-pid_, sig);
}

ExitStatus Process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return ExitStatus{};
  if (!running()) return *status_;
  ::kill(-pid_, SIGTERM);
  if (auto s = wait(grace)) return *s;
  ::kill(-pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  status_ = decode(st);
  return *status_;
}

std::string Process::stdout_text() const { return read_file(out_path_); }
std::string Process::stderr_text() const { return read_file(err_path_); }

// --- Helpers ---------------------------------------------------------------------------------

RunResult run(const std::vector<std::string>& argv, const ProcessOptions& opts,
              std::chrono::milliseconds timeout) {
  auto p = Process::start(argv, opts);
  RunResult r;
  if (auto s = p.wait(timeout)) {
    r.status = *s;
  } else {
    r.status = p.stop(0ms);
  }
  r.out = p.stdout_text();
  r.err = p.stderr_text();
  return r;
}

uint16_t free_port() {
  const auto any = *net::Endpoint::parse("127.0.0.1:0");
  for (int attempt = 0; attempt < 100; ++attempt) {
    net::UniqueFd tcp = net::bind_socket(any, SOCK_STREAM);
    if (!tcp) continue;
    const auto local = net::Endpoint::local_of(tcp.get());
    if (local && net::bind_socket(*local, SOCK_DGRAM)) return local->port();
  }
  throw std::runtime_error("free_port: no port free for both TCP and UDP on 127.0.0.1");
}

bool wait_for_tcp_port(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  const auto a = address::parse(host);
  if (!a) throw std::invalid_argument("wait_for_tcp_port: not an address: " + host);
  const auto to = net::Endpoint(*a, port).to_sockaddr();
  return wait_until(
      [&] {
        net::UniqueFd s(::socket(to.get()->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        return s && ::connect(s.get(), to.get(), to.len) == 0;
      },
      timeout);
}

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace timepool::test
