// Derivation of the makespan lower bound. Notation, each multiplied by
// --time-scale: S = pod_start_delay (scheduled -> Running), R =
// pod_ready_delay (Running -> Ready), A = agent_ready_delay (a CNI agent's
// Running -> Ready), T = termination_delay (deletionTimestamp -> gone, for
// pods deleted with a grace period: evictions and ordinary deletes). API
// round trips, watch delivery and connectivity checks count as zero: a
// bound, not an estimate. Only waits the steps cannot avoid are counted, and
// waits that may overlap are taken as overlapping (max, not sum).
//
// preflight: cnimig-sim's cluster starts without knet-stress, so the agent
//   installs it and waits for its pods:                          S + R.
// prepare (cluster-wide, once): the Cilium and multus DaemonSets start on
//   every node at once (S + A); in parallel the source CNI's node-selector
//   patch changes its pod template, so its DaemonSet controller replaces
//   every agent, `u` = maxUnavailable at a time:  ceil(nodes / u) * (T + S + A).
//   Gate: all ready:                    max(S + A, ceil(nodes / u) * (T + S + A)).
// Per node (steps 2 to 4 are node-serial: a node's next batch starts only
//   after the previous batch's gate, and each step waits for the previous
//   one on every node, so each step costs ceil(nodes / parallel) batches):
//   roll: cordon; evictions end after T; then the remaining pods (the
//     knet-stress DaemonSet pods) are deleted (T) and re-created (S + R);
//     evicted pods' replacements (S + R after the eviction) start elsewhere
//     meanwhile and are ready earlier:                       T + T + S + R.
//   priority: the label swap replaces the node's multus pod (S + A for the
//     new one); the drain (T) may overlap it; then delete the DaemonSet pods
//     (T) and wait for their re-creation (S + R):      max(T, S + A) + T + S + R.
//   migrate: drain (T); only then taint and swap calico-cilium for cilium,
//     and wait for cilium-migrated on the node (S + A); delete the remaining
//     pods (T), re-created (S + R); untaint, uncordon, relabel: no wait
//     (multus leaving lowers its desired count):        T + S + A + T + S + R.
// cleanup: deletes and label removals, no gate:                      0.
// PodDisruptionBudgets: each of roll, priority and migrate drains every
// node, so every pod a budget covers (as the step begins) is evicted at
// least once in the step, at most `allowed` of them at a time (allowed =
// expectedPods - desiredHealthy). An eviction's disruption lasts until its
// replacement is Ready: S + R for a ReplicaSet's pod (the replacement is
// created at once), T + S + R for a StatefulSet's (created once the evicted
// pod is gone). So no step is shorter than ceil(pods / allowed) times that,
// for the longest budget, whatever the parallelism; and a step is no
// shorter than its node batches either: max of the two. (At one node at a
// time the batches dominate: a node's drain evicts a few pods of each
// budget.)

#include "makespan_bound.hpp"

#include <algorithm>
#include <string>

namespace cnimig::sim {

MakespanBound::Duration MakespanBound::total(std::int64_t parallel) const {
  parallel = std::max<std::int64_t>(1, parallel);
  const auto batches = (nodes + parallel - 1) / parallel;
  const auto step = [&](Duration node) { return std::max(batches * node, budget_step); };
  return preflight + prepare + step(roll_node) + step(priority_node) + step(migrate_node);
}

boost::json::object MakespanBound::to_json() const {
  const auto ms = [](Duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  boost::json::object by_parallelism;
  for (std::int64_t p = 1; p <= std::min<std::int64_t>(nodes, 16); ++p)
    by_parallelism[std::to_string(p)] = ms(total(p));
  return {{"nodes", nodes},
          {"preflight_ms", ms(preflight)},
          {"prepare_ms", ms(prepare)},
          {"roll_node_ms", ms(roll_node)},
          {"priority_node_ms", ms(priority_node)},
          {"migrate_node_ms", ms(migrate_node)},
          {"budget_step_ms", ms(budget_step)},
          {"budget", budget},
          {"formula",
           "preflight + prepare + sum over roll, priority, migrate of max(ceil(nodes / parallel) "
           "* step_node, budget_step)"},
          {"by_parallelism_ms", std::move(by_parallelism)}};
}

MakespanBound makespan_lower_bound(const ClusterOptions& options, std::int64_t nodes,
                                   std::int64_t source_max_unavailable,
                                   const std::vector<BudgetLimit>& budgets) {
  const auto S = scaled(options, options.pod_start_delay);
  const auto R = scaled(options, options.pod_ready_delay);
  const auto A = scaled(options, options.agent_ready_delay);
  const auto T = scaled(options, options.termination_delay);
  const auto u = std::max<std::int64_t>(1, source_max_unavailable);
  MakespanBound b;
  b.nodes = nodes;
  b.preflight = S + R;
  b.prepare = std::max<MakespanBound::Duration>(S + A, ((nodes + u - 1) / u) * (T + S + A));
  b.roll_node = T + T + S + R;
  b.priority_node = std::max<MakespanBound::Duration>(T, S + A) + T + S + R;
  b.migrate_node = T + S + A + T + S + R;
  for (const auto& budget : budgets) {
    if (budget.allowed <= 0 || budget.pods <= 0)
      continue;  // allows no eviction at all: no migration ends, no bound
    const auto rounds = (budget.pods + budget.allowed - 1) / budget.allowed;
    const auto step = rounds * (budget.stateful ? T + S + R : S + R);
    if (step > b.budget_step) {
      b.budget_step = step;
      b.budget = budget.name;
    }
  }
  return b;
}

}  // namespace cnimig::sim
