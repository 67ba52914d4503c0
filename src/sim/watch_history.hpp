#pragma once
// The bounded event window a watch can resume from, like the API server's watch
// cache: a watch from resourceVersion R replays every change after R when R is
// still inside the window, and gets 410 Gone ("too old resource version") when
// older changes have already been dropped.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "cnimig/common/result.hpp"

#include "object_store.hpp"

namespace cnimig::sim {

class WatchHistory {
 public:
  explicit WatchHistory(std::size_t capacity = 100000) : capacity_(capacity) {}

  void record(const Change& change);
  // Changes with resource_version > rv, oldest first; 410 Gone when the window
  // no longer reaches back to rv.
  Result<std::vector<Change>> since(std::uint64_t rv) const;
  // The oldest resourceVersion a watch may still resume from.
  std::uint64_t oldest_resumable() const { return dropped_through_; }
  std::size_t size() const { return changes_.size(); }

 private:
  std::size_t capacity_;
  std::deque<Change> changes_;
  std::uint64_t dropped_through_ = 0;
};

// The Status error for an expired resourceVersion.
Error gone_error(std::uint64_t requested, std::uint64_t oldest);

}  // namespace cnimig::sim
