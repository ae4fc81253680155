// The monitor's durable spool: every sealed batch of results is on disk before it is sent, and
// leaves the disk only after the monitor API acknowledged it. Results thus survive an API
// outage and a monitor restart, and are delivered once: a batch sent again after a lost
// acknowledgement carries the same batch id, which the API applies never twice.
//
// Layout of the folder (created 0700 if missing):
//   <sealed_us>-<batch_id>.json   sealed batches; names sort in the order they were sealed
//   rejected/                     batches the API refused for good (kept for the operator)
//   assignment.json               the last assignment, to keep probing through an outage
// Every file is written as NAME.tmp, fsynced, renamed into place and the folder fsynced, so a
// crash leaves either the whole file or nothing (a stray .tmp is removed at start).
//
// Not thread-safe: one thread (the uplink) uses it, apart from construction.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/ntp.hpp"

namespace timepool::monitor {

class SpoolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Spool {
 public:
  // Opens (and creates) the folder; removes stray .tmp files. Throws SpoolError.
  explicit Spool(std::string dir);

  // Stores one sealed batch durably; returns its file name. Throws SpoolError (disk full ...).
  std::string put(const std::string& batch_id, const std::string& json, ntp::TimePoint sealed);
  // The sealed batches, oldest first.
  std::vector<std::string> list() const;
  // A batch's text; nullopt if it is gone.
  std::optional<std::string> read(const std::string& name) const;
  // After the API acknowledged it.
  void remove(const std::string& name);
  // After the API refused it for good: moved to rejected/.
  void reject(const std::string& name);

  // The last assignment (written whole, replaced atomically).
  void save_assignment(const std::string& json);
  std::optional<std::string> load_assignment() const;

  const std::string& dir() const { return dir_; }

 private:
  void write_atomically(const std::string& dir, const std::string& name, const std::string& text);
  std::string dir_;
};

}  // namespace timepool::monitor
