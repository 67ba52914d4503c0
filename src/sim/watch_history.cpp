#include "watch_history.hpp"

#include <algorithm>
#include <string>

namespace cnimig::sim {

void WatchHistory::record(const Change& change) {
  changes_.push_back(change);
  while (changes_.size() > capacity_) {
    dropped_through_ = changes_.front().resource_version;
    changes_.pop_front();
  }
}

Error gone_error(std::uint64_t requested, std::uint64_t oldest) {
  return make_error(Errc::gone, 410, "Expired",
                    "too old resource version: " + std::to_string(requested) + " (" +
                        std::to_string(oldest) + ")");
}

Result<std::vector<Change>> WatchHistory::since(std::uint64_t rv) const {
  if (rv < dropped_through_)
    return gone_error(rv, dropped_through_);
  auto it =
      std::upper_bound(changes_.begin(), changes_.end(), rv,
                       [](std::uint64_t v, const Change& c) { return v < c.resource_version; });
  return std::vector<Change>(it, changes_.end());
}

}  // namespace cnimig::sim
