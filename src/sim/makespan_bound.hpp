#pragma once
// The shortest time any migrator that follows src/migrate/README.md's steps can
// take on the simulated cluster, given the kubelet model's delays at the
// current --time-scale and the migrator's node parallelism (test/bench/README.md:
// makespan within 10% of this bound). /sim/v1/report publishes it as
// `makespan_lower_bound`; the derivation is in makespan_bound.cpp.

#include <chrono>
#include <cstdint>

#include <boost/json/object.hpp>

#include "cnimig/sim/cluster_options.hpp"

namespace cnimig::sim {

struct MakespanBound {
  using Duration = std::chrono::nanoseconds;
  std::int64_t nodes = 0;
  Duration preflight{0};  // cluster-wide, once
  Duration prepare{0};    // cluster-wide, once
  Duration roll_node{0};  // per node, node-serial within a batch of `parallel` nodes
  Duration priority_node{0};
  Duration migrate_node{0};

  // preflight + prepare + ceil(nodes / parallel) * (roll + priority + migrate)
  Duration total(std::int64_t parallel) const;
  // The components in milliseconds, and the total for parallelism 1..min(nodes, 16).
  boost::json::object to_json() const;
};

// `source_max_unavailable`: the source CNI DaemonSet's rollingUpdate
// maxUnavailable resolved against its node count (prepare's node-selector
// patch changes its pod template, so every source CNI agent is replaced).
MakespanBound makespan_lower_bound(const ClusterOptions& options, std::int64_t nodes,
                                   std::int64_t source_max_unavailable);

}  // namespace cnimig::sim
