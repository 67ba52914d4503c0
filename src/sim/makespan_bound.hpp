#pragma once
// The shortest time any migrator that follows src/migrate/README.md's steps can
// take on the simulated cluster, given the kubelet model's delays at the
// current --time-scale and the migrator's node parallelism (test/bench/README.md:
// makespan within 10% of this bound). /sim/v1/report publishes it as
// `makespan_lower_bound`; the derivation is in makespan_bound.cpp.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/sim/cluster_options.hpp"

namespace cnimig::sim {

// What a PodDisruptionBudget lets a migration do at once: of the `pods` it
// expects (status.expectedPods), at most `allowed` disrupted at a time
// (expectedPods - desiredHealthy); `stateful` when a StatefulSet owns them
// (its replacement comes only once the evicted pod is gone).
struct BudgetLimit {
  std::string name;  // namespace/name
  std::int64_t pods = 0;
  std::int64_t allowed = 0;
  bool stateful = false;
};

struct MakespanBound {
  using Duration = std::chrono::nanoseconds;
  std::int64_t nodes = 0;
  Duration preflight{0};  // cluster-wide, once
  Duration prepare{0};    // cluster-wide, once
  Duration roll_node{0};  // per node, node-serial within a batch of `parallel` nodes
  Duration priority_node{0};
  Duration migrate_node{0};
  // Each of the three draining steps evicts every pod of every budget at
  // least once, `allowed` at a time, each disruption lasting until its
  // replacement is Ready: the longest budget's ceil(pods / allowed) *
  // disruption, at any parallelism. Zero without budgets.
  Duration budget_step{0};
  std::string budget;  // the budget that sets budget_step

  // preflight + prepare + the sum over roll, priority and migrate of
  // max(ceil(nodes / parallel) * step_node, budget_step)
  Duration total(std::int64_t parallel) const;
  // The components in milliseconds, and the total for parallelism 1..min(nodes, 16).
  boost::json::object to_json() const;
};

// `source_max_unavailable`: the source CNI DaemonSet's rollingUpdate
// maxUnavailable resolved against its node count (prepare's node-selector
// patch changes its pod template, so every source CNI agent is replaced).
MakespanBound makespan_lower_bound(const ClusterOptions& options, std::int64_t nodes,
                                   std::int64_t source_max_unavailable,
                                   const std::vector<BudgetLimit>& budgets = {});

}  // namespace cnimig::sim
