// One signal-handling model for every daemon: signals become events that the main thread
// waits for, instead of handlers that run at an arbitrary point of an arbitrary thread.
//
// Construct a SignalSet in main() before any thread is started: it blocks SIGTERM, SIGINT and
// SIGHUP in the calling thread (every thread started afterwards inherits the mask, so no
// thread is interrupted by them), ignores SIGPIPE (a peer that went away is an error return
// from send, not the end of the process), and receives the blocked signals through a
// signalfd(2). Then:
//
//   signals::SignalSet signals;          // first thing in main()
//   start_threads();
//   while (auto ev = signals.wait()) {
//     if (ev->kind == signals::Kind::kReload) reload(); else break;   // kStop
//   }
//
// wake() (from any thread) makes a wait() return nullopt, for a main loop that must also end
// when its service stops by itself. The destructor restores the previous mask.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include <signal.h>

#include "core/net.hpp"

namespace timepool::signals {

enum class Kind { kStop, kReload };

struct Event {
  int signo = 0;
  Kind kind = Kind::kStop;
  std::string_view name;  // "SIGTERM", "SIGINT", "SIGHUP"
};

class SignalSet {
 public:
  // Throws std::system_error when the signalfd or the wake-up eventfd cannot be made.
  SignalSet();
  ~SignalSet();
  SignalSet(const SignalSet&) = delete;
  SignalSet& operator=(const SignalSet&) = delete;

  // Waits up to `timeout` (negative: forever) for a signal. nullopt on timeout or after
  // wake(). One thread at a time calls wait/poll; a signal sent to one thread only
  // (pthread_kill, raise) is seen by a wait on that thread.
  std::optional<Event> wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));
  // A pending signal, without waiting.
  std::optional<Event> poll() { return wait(std::chrono::milliseconds(0)); }
  // Makes the current or next wait() return nullopt. Safe from any thread.
  void wake();
  // Readable while a signal is pending (for a caller's own epoll/poll set).
  int fd() const { return sigfd_.get(); }

 private:
  sigset_t mask_{};
  sigset_t old_mask_{};
  net::UniqueFd sigfd_;
  net::UniqueFd wakefd_;
};

// The event for a signal number: SIGHUP reloads, everything else stops.
Event event_of(int signo);

}  // namespace timepool::signals
