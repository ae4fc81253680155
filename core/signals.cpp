#include "core/signals.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace timepool::signals {

Event event_of(int signo) {
  switch (signo) {
    case SIGHUP: return Event{signo, Kind::kReload, "SIGHUP"};
    case SIGTERM: return Event{signo, Kind::kStop, "SIGTERM"};
    case SIGINT: return Event{signo, Kind::kStop, "SIGINT"};
    default: return Event{signo, Kind::kStop, "signal"};
  }
}

SignalSet::SignalSet() {
  sigemptyset(&mask_);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask_, s);
  if (const int rc = pthread_sigmask(SIG_BLOCK, &mask_, &old_mask_); rc != 0) {
    throw std::system_error(rc, std::generic_category(), "pthread_sigmask");
  }
  ::signal(SIGPIPE, SIG_IGN);
  sigfd_.reset(::signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC));
  wakefd_.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!sigfd_ || !wakefd_) {
    const int err = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    throw std::system_error(err, std::generic_category(), "signalfd/eventfd");
  }
}

SignalSet::~SignalSet() {
  // Signals that arrived and were not taken stay pending; drop them rather than let the
  // restored mask deliver them with their default action.
  while (poll()) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::optional<Event> SignalSet::wait(std::chrono::milliseconds timeout) {
  for (;;) {
    signalfd_siginfo info{};
    if (::read(sigfd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      return event_of(static_cast<int>(info.ssi_signo));
    }
    uint64_t n = 0;
    if (::read(wakefd_.get(), &n, sizeof n) == static_cast<ssize_t>(sizeof n)) return std::nullopt;
    if (timeout.count() == 0) return std::nullopt;
    pollfd fds[2] = {{sigfd_.get(), POLLIN, 0}, {wakefd_.get(), POLLIN, 0}};
    const int ms = timeout.count() < 0 ? -1 : static_cast<int>(timeout.count());
    const int rc = ::poll(fds, 2, ms);
    if (rc == 0) return std::nullopt;
    if (rc < 0 && errno != EINTR) return std::nullopt;
    // Something is readable (or EINTR): read again; with a finite timeout, poll only once more.
    if (timeout.count() > 0) timeout = std::chrono::milliseconds(0);
  }
}

void SignalSet::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wakefd_.get(), &one, sizeof one);
}

}  // namespace timepool::signals
