#pragma once
// The parallelism budget of the per-node steps (roll, priority, migrate).
// `--max-unavailable` is parsed and resolved to a count by config
// (config::MaxUnavailable::resolve).

#include <cstddef>

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

}  // namespace cnimig::migrate
