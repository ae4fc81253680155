// Counters that grow without moving: the per-zone and per-server query counters of a
// statistics Recorder (server/query_stats.hpp), which worker threads bump without locks while
// a new snapshot may bring more zones or servers than there were.
//
// The counters live in pages of kPage; a fixed table of page pointers is allocated up front
// (max_pages entries), pages only as grow() asks for them. A page never moves or goes away
// before the PagedCounters does, so a writer holding a counter index that grow() covered before
// the index was handed to it (through a mutex or a release store, as the published object
// does) always finds its page.
//
// Threads: grow() by one thread at a time (the owner's setup mutex); operator[] and size()
// from any thread, for indexes below what grow() covered before they were handed out.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace timepool::stats {

class PagedCounters {
 public:
  static constexpr size_t kPageBits = 12;
  static constexpr size_t kPage = size_t{1} << kPageBits;  // 4,096 counters, 16 KiB

  // Room for at most max_counters (rounded up to whole pages); none allocated yet.
  explicit PagedCounters(size_t max_counters)
      : max_pages_((max_counters + kPage - 1) / kPage),
        table_(std::make_unique<std::atomic<std::atomic<uint32_t>*>[]>(max_pages_)) {
    for (size_t p = 0; p < max_pages_; ++p) table_[p].store(nullptr, std::memory_order_relaxed);
  }
  PagedCounters(const PagedCounters&) = delete;
  PagedCounters& operator=(const PagedCounters&) = delete;

  // Makes counters [0, n) exist (zero when new); n beyond the maximum is cut to it.
  void grow(size_t n) {
    const size_t want = std::min((n + kPage - 1) / kPage, max_pages_);
    while (pages_.size() < want) {
      pages_.push_back(std::make_unique<std::atomic<uint32_t>[]>(kPage));
      table_[pages_.size() - 1].store(pages_.back().get(), std::memory_order_release);
    }
  }
  // How many counters exist (a multiple of kPage); the growing thread only.
  size_t size() const { return pages_.size() * kPage; }

  std::atomic<uint32_t>& operator[](size_t i) const {
    return table_[i >> kPageBits].load(std::memory_order_acquire)[i & (kPage - 1)];
  }

 private:
  size_t max_pages_;
  std::unique_ptr<std::atomic<std::atomic<uint32_t>*>[]> table_;
  std::vector<std::unique_ptr<std::atomic<uint32_t>[]>> pages_;  // grow() only
};

}  // namespace timepool::stats
