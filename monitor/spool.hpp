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
// The spool is bounded (SpoolLimits): when a new batch takes it over its size or count, the
// oldest batches are deleted until it fits again (never the one just written), and put()
// reports each, so the caller counts and logs the results lost. The oldest go first: they are
// the closest to the API's age limit (monitor_api.max_age_s), past which it refuses them anyway.
//
// Not thread-safe: one thread (the uplink) uses it, apart from construction.
#pragma once

#include <cstddef>
#include <map>
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

struct SpoolLimits {
  std::size_t max_bytes = std::size_t{1} << 30;  // sealed batches' files, together
  std::size_t max_batches = 100000;
};

// A batch deleted to make room.
struct Dropped {
  std::string name;
  std::size_t bytes = 0;
  std::size_t results = 0;  // in its "results" array (0 if it could not be read)
};

struct Stored {
  std::string name;              // the new batch's file
  std::vector<Dropped> dropped;  // the oldest batches deleted to make room for it
};

class Spool {
 public:
  // Opens (and creates) the folder; removes stray .tmp files; counts the batches there (an
  // earlier run's). Throws SpoolError.
  explicit Spool(std::string dir, SpoolLimits limits = {});

  // Stores one sealed batch durably, then deletes the oldest others while the spool is over a
  // limit. Throws SpoolError (disk full ...).
  Stored put(const std::string& batch_id, const std::string& json, ntp::TimePoint sealed);
  // The sealed batches, oldest first.
  std::vector<std::string> list() const;
  std::size_t batches() const { return sizes_.size(); }
  std::size_t bytes() const { return bytes_; }
  const SpoolLimits& limits() const { return limits_; }
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
  void forget(const std::string& name);
  Dropped drop(const std::string& name);
  std::string dir_;
  SpoolLimits limits_;
  std::map<std::string, std::size_t> sizes_;  // the batches' files and sizes, oldest first
  std::size_t bytes_ = 0;
};

}  // namespace timepool::monitor
