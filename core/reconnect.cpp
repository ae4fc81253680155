#include "core/reconnect.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

namespace timepool {
namespace {

double default_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

std::chrono::milliseconds Backoff::next(double unit_random) {
  const double lo = static_cast<double>(min_.count());
  const double hi = std::max(lo, static_cast<double>(max_.count()));
  const double current = std::clamp(lo * std::ldexp(1.0, std::min(attempt_, 62)), lo, hi);
  const double u = std::clamp(unit_random, 0.0, 1.0);
  ++attempt_;
  return std::chrono::milliseconds(static_cast<int64_t>(lo + u * (current - lo)));
}

Reconnect::Reconnect(std::string what, std::shared_ptr<spdlog::logger> log, ReconnectOptions opts,
                     std::function<std::string()> context, Random random)
    : what_(std::move(what)),
      log_(std::move(log)),
      context_(std::move(context)),
      random_(random ? std::move(random) : Random(default_random)),
      backoff_(opts.min, opts.max),
      min_(opts.min),
      max_(std::max(opts.min, opts.max)) {}

std::chrono::milliseconds Reconnect::failed(std::string_view why, Clock::time_point now,
                                           std::optional<std::chrono::milliseconds> asked) {
  ++failures_;
  const auto delay = asked ? std::clamp(*asked, min_, max_) : backoff_.next(random_());
  retry_at_ = now + delay;
  if (up_) {
    up_ = false;
    down_since_ = now;
    if (log_) {
      const std::string ctx = context_ ? "; " + context_() : "";
      log_->warn("{} unavailable ({}){}", what_, why, ctx);
    }
  } else if (log_) {
    log_->debug("{} still unavailable after {} attempts ({}); next in {} ms", what_, failures_,
                why, delay.count());
  }
  return delay;
}

void Reconnect::succeeded(Clock::time_point now) {
  if (!up_ && log_) {
    const auto down = std::chrono::duration<double>(now - down_since_).count();
    const std::string ctx = context_ ? "; " + context_() : "";
    log_->info("{} is back after {:.1f} s and {} failed attempts{}", what_, down, failures_, ctx);
  }
  up_ = true;
  failures_ = 0;
  backoff_.reset();
  retry_at_ = now;
}

bool Reconnect::wait(const std::atomic<bool>& stop) const {
  constexpr auto kSlice = std::chrono::milliseconds(20);
  while (!stop.load()) {
    const auto left = retry_at_ - Clock::now();
    if (left <= Clock::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(left, kSlice));
  }
  return false;
}

}  // namespace timepool
