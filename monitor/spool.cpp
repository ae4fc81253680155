#include "monitor/spool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace timepool::monitor {

namespace fs = std::filesystem;

namespace {

constexpr const char* kAssignment = "assignment.json";
constexpr const char* kRejected = "rejected";

[[noreturn]] void fail(const std::string& what) {
  throw SpoolError("spool: " + what + ": " + std::strerror(errno));
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("fsync " + dir);
}

bool is_batch(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 && name != kAssignment;
}

}  // namespace

Spool::Spool(std::string dir, SpoolLimits limits) : dir_(std::move(dir)), limits_(limits) {
  std::error_code ec;
  fs::create_directories(dir_ + "/" + kRejected, ec);
  if (ec) throw SpoolError("spool: cannot create " + dir_ + ": " + ec.message());
  ::chmod(dir_.c_str(), 0700);
  // Before any writer of ours starts: a .tmp here was cut short by a crash.
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) fs::remove(e.path(), ec);
  }
  if (::access(dir_.c_str(), W_OK) != 0) fail("cannot write " + dir_);
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (!e.is_regular_file(ec)) continue;
    std::string name = e.path().filename().string();
    if (!is_batch(name)) continue;
    const auto size = static_cast<std::size_t>(e.file_size(ec));
    bytes_ += size;
    sizes_.emplace(std::move(name), size);
  }
}

void Spool::write_atomically(const std::string& dir, const std::string& name,
                             const std::string& text) {
  const std::string tmp = dir + "/" + name + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("create " + tmp);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      fail("write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    fail("fsync " + tmp);
  }
  ::close(fd);
  const std::string final_path = dir + "/" + name;
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail("rename " + tmp);
  }
  fsync_dir(dir);
}

Stored Spool::put(const std::string& batch_id, const std::string& json, ntp::TimePoint sealed) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(sealed.time_since_epoch()).count();
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%017lld", static_cast<long long>(us));
  Stored out;
  out.name = std::string(prefix) + "-" + batch_id + ".json";
  write_atomically(dir_, out.name, json);
  forget(out.name);  // a rewrite of the same name replaces it
  sizes_.emplace(out.name, json.size());
  bytes_ += json.size();
  while (sizes_.size() > 1 && (sizes_.size() > limits_.max_batches || bytes_ > limits_.max_bytes)) {
    auto oldest = sizes_.begin();
    if (oldest->first == out.name) oldest = std::next(oldest);  // sealed out of order
    out.dropped.push_back(drop(oldest->first));
  }
  return out;
}

Dropped Spool::drop(const std::string& name) {
  Dropped d{name, 0, 0};
  auto it = sizes_.find(name);
  if (it != sizes_.end()) d.bytes = it->second;
  if (auto text = read(name)) {
    const auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("results") && j["results"].is_array()) {
      d.results = j["results"].size();
    }
  }
  remove(name);
  return d;
}

void Spool::forget(const std::string& name) {
  auto it = sizes_.find(name);
  if (it == sizes_.end()) return;
  bytes_ -= it->second;
  sizes_.erase(it);
}

std::vector<std::string> Spool::list() const {
  std::vector<std::string> out;
  out.reserve(sizes_.size());
  for (const auto& [name, size] : sizes_) out.push_back(name);
  return out;
}

std::optional<std::string> Spool::read(const std::string& name) const {
  std::ifstream in(dir_ + "/" + name, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spool::remove(const std::string& name) {
  const std::string path = dir_ + "/" + name;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("remove " + path);
  forget(name);
  fsync_dir(dir_);
}

void Spool::reject(const std::string& name) {
  const std::string from = dir_ + "/" + name;
  const std::string to = dir_ + "/" + kRejected + "/" + name;
  if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) fail("move " + from);
  forget(name);
  fsync_dir(dir_);
}

void Spool::save_assignment(const std::string& json) { write_atomically(dir_, kAssignment, json); }

std::optional<std::string> Spool::load_assignment() const { return read(kAssignment); }

}  // namespace timepool::monitor
