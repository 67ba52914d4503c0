#pragma once
// Internal: the rollback (src/migrate/README.md "Rollback"). Three reverse
// steps per node, each a NodeStep descriptor like the forward ones (its
// annotation keys, its start and its advance), run in the reverse of the
// forward order, then the cluster-wide restore of a whole-cluster rollback.

#include "node_step.hpp"

namespace cnimig::migrate::detail {

// The reverse steps. Each names, as `step`, the forward step it reverses:
// the events and the plan of a rollback say which.
const NodeStep& unmigrate_step();     // Cilium alone -> calico-cilium + priority-cilium
const NodeStep& unprioritise_step();  // priority-cilium -> priority-calico, re-roll
const NodeStep& unroll_step();        // off multus (priority-calico, rolled removed), re-roll

// Which reverse step, if any, holds the node (its annotation present).
const NodeStep* reverse_step_of(const MigrationSettings& s, const NodeState& node);

// Cluster-wide order (src/migrate/README.md "Rollback"): a node may come
// off Cilium first only once no node runs Cilium alone or is on its way
// there or back; off multus only once no node puts Cilium first.
bool any_on_cilium(const Context& ctx);
bool any_cilium_first(const Context& ctx);

// A whole-cluster rollback's last part, once every node is off multus:
// the source CNI's selector removed, the Cilium and multus bundles deleted
// and their agents gone, the nodes' labels and annotations removed.
bool restore_done(const Context& ctx);
StepOutcome run_restore(const Context& ctx);

// next_actions for Selection::rollback.
void decide_rollback(Decision& d, const Context& ctx);

}  // namespace cnimig::migrate::detail
