#pragma once
// The parallelism budget of the per-node steps (roll, priority, migrate).

#include <cstddef>
#include <string_view>

#include "cnimig/common/result.hpp"

namespace cnimig::migrate {

struct Budget {
  // Nodes whose step is in progress at once (started, not yet recorded done).
  std::size_t max_parallel_nodes = 1;
  // Nodes cordoned by the agent at once, already resolved to a count. Nodes an
  // administrator cordoned before we touched them do not count: we did not
  // take them out of service.
  std::size_t max_unavailable = 1;

  friend bool operator==(const Budget&, const Budget&) = default;
};

// `--max-unavailable`: a count ("2") or a percentage of the nodes ("25%").
// Percentages round down, as Kubernetes does for a DaemonSet's maxUnavailable,
// but never below 1 (a budget of 0 would make no progress). A count of 0, a
// percentage outside 1..100 or anything else is an invalid_argument error.
Result<std::size_t> resolve_max_unavailable(std::string_view spec, std::size_t node_count);

}  // namespace cnimig::migrate
