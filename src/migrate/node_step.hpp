#pragma once
// Internal: the per-node steps (roll, priority, migrate) are one routine
// parameterised by a descriptor. Each step's file holds its descriptor: its
// annotation keys, the phase a node waits in for it, its done predicate per
// node, the writes that follow a node's start, and the next writes for a node
// in flight. The routine does the rest, identically for the three: count the
// nodes in flight and those they hold out of service, advance each, start new
// nodes within the budget through a gate, and tell when the scope is done.

#include <string_view>
#include <vector>

#include "node_roll.hpp"

namespace cnimig::migrate::detail {

// What a node in flight holds once this decision's writes are issued.
enum class NodeHold {
  unavailable,  // cordoned (or about to be) by us: counts against max_unavailable
  in_flight,    // in the step, schedulable
  finished,     // its completion is recorded in this decision: frees a slot
};

struct NodeStep {
  StepId step;
  std::string_view stage_key;   // progress annotation ("roll": started, deleting, pods-deleted)
  std::string_view before_key;  // deletion cut-off annotation
  NodePhase waiting_phase;      // a node ready to start this step
  // Done with the node (the index derives it: settings and node only).
  bool (*node_done)(const MigrationSettings& s, const NodeState& node);
  // The writes that follow the start annotation on a node, in one decision.
  void (*start)(const Context& ctx, const NodeStep& step, const NodeState& node, StepOutcome& out);
  // The next writes for a node in flight (its stage annotation present).
  NodeHold (*advance)(const Context& ctx, const NodeStep& step, const NodeState& node,
                      NodePhase phase, StepOutcome& out);
  // Whether cordon_and_drain records the deletion cut-off with the cordon:
  // only where the CNI the node's pods must get runs there before the step
  // starts (roll). Migrate and unmigrate swap the CNI after the drain, so
  // their cut-off follows the swap.
  bool cutoff_with_cordon = false;
  // The label that records completion (roll: `rolled`), if any; the
  // annotations' removal follows it in the same patch.
  std::optional<LabelNode> (*record)(const MigrationSettings& s, const std::string& node) = nullptr;
};

// The descriptors, one per step file.
const NodeStep& roll_step();
const NodeStep& priority_step();
const NodeStep& migrate_step();
// cilium-native's per-node step (StepId::migrate, node_native.cpp).
const NodeStep& native_step();
// The per-node steps the settings' strategy runs, in order.
std::vector<const NodeStep*> node_steps(const MigrationSettings& s);

// Test only: the roll step of MigrationSettings::skip_roll_for_tests.
StepOutcome skip_roll_for_tests(const Context& ctx);

// Done on every node (the snapshot's record), or cleanup has begun.
bool node_step_done(const Context& ctx, const NodeStep& step);

StepOutcome run_node_step(const Context& ctx, const NodeStep& step);

// Advances a node in flight in `step` and counts what it holds.
void advance_node(const Context& ctx, const NodeStep& step, const NodeState& node,
                  InFlight& in_flight, StepOutcome& out);

// --- pieces the descriptors share ---

// Roll and migrate start a node by cordoning it (unless an administrator
// did) and evicting what a drain evicts; with `cutoff_with_cordon`, the
// deletion cut-off is recorded in the same write.
void cordon_and_drain(const Context& ctx, const NodeStep& step, const NodeState& node,
                      StepOutcome& out);

// The shared roll's stage (node_roll.hpp) of a roll or priority phase that
// is one; its writes for a node we hold.
std::optional<RollStage> shared_roll_stage(NodePhase phase);
NodeHold roll_stage(const Context& ctx, const NodeStep& step, const NodeState& node,
                    RollStage stage, StepOutcome& out);

// Deletes the node's pods that predate the step's cut-off, but only while
// `agent`'s pod runs Ready on the node (a restart finds the node here without
// the phase's Ready check, and pods re-created before the agent's CNI config
// is in place would keep the old network; else waits for `gate`). True once
// none is left.
bool delete_pods_behind_agent(const Context& ctx, const NodeStep& step, const NodeState& node,
                              const ObjectRef& agent, Gate gate, StepOutcome& out);

// Completion is recorded only after the gate (src/migrate/README.md): the
// uncordon (a node we cordoned is given back with its completion: neither
// changes a pod's network, and one patch carries both), `record` (if any)
// and then the removal of the step's annotations. The same gate opens the
// next node, so the node no longer counts as in flight.
NodeHold finish_after_gate(const Context& ctx, const NodeStep& step, const NodeState& node,
                           std::optional<LabelNode> record, StepOutcome& out);
// The same with the step's own record.
NodeHold finish_after_gate(const Context& ctx, const NodeStep& step, const NodeState& node,
                           StepOutcome& out);

// Removes the step's progress and cut-off annotations.
AnnotateNode step_annotations_removed(const Context& ctx, const NodeStep& step,
                                      const NodeState& node);

}  // namespace cnimig::migrate::detail
