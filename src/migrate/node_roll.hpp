#pragma once
// Internal: the parts of "roll a node" shared by the roll, priority and
// migrate steps (cordon, drain, delete what is left, uncordon), and the
// budget accounting of the per-node steps.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "step_context.hpp"

namespace cnimig::migrate::detail {

// The recorded drain start (annotation_names::kDrainSince), or the largest
// value when absent or malformed (then every pod present is evicted).
std::int64_t drain_since(const MigrationSettings& s, const NodeState& node);

// Pods a drain evicts: everything but DaemonSet-owned and mirror pods
// (kubectl drain's rule; DaemonSet pods would be re-created at once), among
// those created up to the drain's start.
std::vector<const PodState*> evictable_pods(const MigrationSettings& s, const NodeState& node);
bool has_evictable_pods(const MigrationSettings& s, const NodeState& node);

// Cordons the node, recording first when the drain begins: the next whole
// second of the server's clock, so that a pod created in the second the
// cordon lands in still counts as one to evict. With `cutoff_key`, the same
// annotation write records the deletion cut-off too (same second): where the
// CNI the pods must get already runs on the node, nothing created after the
// cordon needs re-creating, and the cut-off's second passes during the drain
// instead of being waited for after it.
void cordon(const Context& ctx, StepId step, const NodeState& node, StepOutcome& out,
            std::string_view cutoff_key = {});

// A recorded pod cut-off: the Unix second it names and, when this run wrote
// it and read the pods' order after (NodeState::cutoff_orders), the pod
// resourceVersion it falls at.
struct Cutoff {
  std::int64_t seconds = -1;      // -1: absent or malformed
  std::uint64_t pod_version = 0;  // 0: not known
  bool recorded() const noexcept { return seconds >= 0; }
};

// Whether `pod` may have been created before the cut-off, so that it must be
// re-created. Either proof that it came after is enough: created in the
// cut-off's second or later (the cut-off is the second after the one it was
// decided in), or shown by the watch being created at a resourceVersion
// above the cut-off's. Only the second proof holds within a second.
bool predates(const PodState& pod, const Cutoff& cut);

// Pods to delete after the drain: not hostNetwork (their network does not
// change), not mirror, that predate the recorded cut-off. The cut-off tells
// the old pods from their replacements: a DaemonSet re-creates its pod at
// once, even on a cordoned node, so "no pods left" is never observed. Without
// the cut-off's place in the pods' order, delete_old_pods deletes nothing
// until the server's clock has reached its second: every pod it deletes was
// created before the cut-off, every replacement in a later second.
std::vector<const PodState*> pods_to_recreate(const NodeState& node, const Cutoff& cut);

// The recorded cut-off under `before_key`, with its place in the pods' order
// when the snapshot knows it.
Cutoff cutoff(const MigrationSettings& s, const NodeState& node, std::string_view before_key);
Cutoff cutoff(const Context& ctx, const NodeState& node, std::string_view before_key);

// The write that records a cut-off under `before_key`: the next whole second
// of the server's clock, marked so the driver places it in the pods' order.
AnnotateNode cutoff_write(const Context& ctx, const NodeState& node, std::string_view before_key);

// The write that records the cut-off (and the stage "deleting") once the node
// is drained.
AnnotateNode cutoff_annotation(const Context& ctx, const NodeState& node,
                               std::string_view stage_key, std::string_view before_key);

// cilium-native (node_native.cpp): a node's phase from its labels, the
// native annotations, its cordon and its pods.
NodePhase native_phase(const NodeState& node, const ClusterSnapshot& snap,
                       const MigrationSettings& s);

// Whether `node` runs a Ready, non-terminating pod of DaemonSet ns/name: the
// CNI that DaemonSet installs is in place there. Its status cannot tell: a
// node label change bumps no generation, and the status may not count the
// node yet.
bool runs_ready_pod(const NodeState& node, const std::string& ns, const std::string& daemon_set);
// Whether any pod of DaemonSet ns/name, even a terminating one, is on `node`.
bool runs_pod(const NodeState& node, const std::string& ns, const std::string& daemon_set);

// A pod this run already removed (terminating, or its eviction or deletion
// accepted and the watch not yet caught up): never removed twice.
bool going(const Context& ctx, const PodState& pod);

// Evicts what is evictable (skipping terminating pods and PDB-blocked ones,
// which the driver retries) and adds a wait while any remain. True when the
// node is drained.
bool drain(const Context& ctx, StepId step, const NodeState& node, StepOutcome& out);

// Deletes pods_to_recreate (those `deletable` accepts, when given) and waits
// for them. True when none is left.
bool delete_old_pods(const Context& ctx, StepId step, const NodeState& node,
                     std::string_view before_key, StepOutcome& out,
                     const std::function<bool(const PodState&)>& deletable = {});
// The same for the pods `select` picks among those created before the cut-off
// (delete_old_pods: pods_to_recreate).
using PodSelection =
    std::function<std::vector<const PodState*>(const NodeState&, const Cutoff& cutoff)>;
bool delete_pods_before(const Context& ctx, StepId step, const NodeState& node,
                        std::string_view before_key, StepOutcome& out, const PodSelection& select);

// The first write on a node in a step: the progress annotation together with
// whether an administrator had cordoned it (recorded before we cordon).
AnnotateNode start_annotation(const Context& ctx, const NodeState& node,
                              std::string_view stage_key);

// Why losing `pod` is not allowed (its drain or re-creation would), or
// nullopt when it may go.
std::optional<std::string_view> refusal(const MigrationSettings& s, const PodState& pod);

// The pods on `node` that its drain or re-creation would lose and the
// settings do not allow to lose (ns/name and why): no controller, or an
// emptyDir volume when drain.deleteEmptyDirData is false.
std::vector<std::string> refused_pods(const MigrationSettings& s, const NodeState& node);

// Nodes in flight in a step (its progress annotation present) and how many of
// them we hold cordoned or are about to cordon.
struct InFlight {
  std::size_t nodes = 0;
  std::size_t unavailable = 0;
};

// Starts new nodes (those with `pending_phase` in the selection, by name)
// within the budget when the gate is open; asks for a gate when a node could
// start but the gate is not open. `then` appends the writes that follow the
// start annotation on the same node in the same decision.
void start_nodes(const Context& ctx, StepId step, NodePhase pending_phase,
                 std::string_view stage_key, InFlight in_flight, StepOutcome& out,
                 const std::function<void(const NodeState&, StepOutcome&)>& then = {});
// The same over the candidates `pending` (node names).
void start_nodes(const Context& ctx, StepId step, const std::set<std::string>& pending,
                 std::string_view stage_key, InFlight in_flight, StepOutcome& out,
                 const std::function<void(const NodeState&, StepOutcome&)>& then = {});

// Joining nodes (node_join.cpp): phases, whether any is in progress, and
// their writes and waits, added to whatever step runs.
bool is_join_phase(NodePhase phase);
bool joins_in_progress(const Context& ctx);
void run_joins(const Context& ctx, StepId step, StepOutcome& out);

}  // namespace cnimig::migrate::detail

namespace cnimig::migrate::detail {

// The phases of a step built on the shared roll, by stage: `started` while
// its label swap is still to come, `cordon` once swapped (or with nothing to
// swap) and not cordoned yet.
struct RollPhases {
  NodePhase started;
  NodePhase cordon;
  NodePhase draining;
  NodePhase drained;
  NodePhase deleting;
  NodePhase pods_deleted;       // uncordon next
  NodePhase awaiting_gate;      // gate, then completion
  std::string_view before_key;  // the step's deletion cut-off annotation
};

// A node's phase in such a step from its stage annotation's value, its
// cordon and its pods.
NodePhase roll_like_phase(const MigrationSettings& s, const NodeState& node,
                          std::string_view stage_value, const RollPhases& phases,
                          bool swap_pending);

// The phase of a node a rollback holds (one of its annotations present),
// and the names of the rollback phases (rollback_phase.cpp).
std::optional<NodePhase> rollback_phase(const NodeState& node, const MigrationSettings& s);
std::string_view rollback_phase_name(NodePhase phase) noexcept;
// Back from Cilium alone: calico-cilium and priority-cilium, neither cilium
// nor migrated.
bool back_on_both_cnis(const MigrationSettings& s, const NodeState& node);
// What keeps such a node's pods from being re-created with both networks:
// the source CNI, the first Cilium and multus (Cilium first) Ready on it,
// cilium-migrated gone; empty when nothing does.
std::vector<std::string> both_cnis_ready(const MigrationSettings& s, const NodeState& node);

// Where a node is inside the shared roll (roll and priority steps).
enum class RollStage { cordon, draining, drained, deleting, pods_deleted };

// The next writes for a node in `stage`. In failure mode only the uncordon
// runs: it gives the node back; every other stage is a safe place to stop.
void advance_roll(const Context& ctx, StepId step, const NodeState& node, RollStage stage,
                  std::string_view stage_key, std::string_view before_key, StepOutcome& out);

}  // namespace cnimig::migrate::detail
