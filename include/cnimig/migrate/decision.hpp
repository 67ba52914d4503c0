#pragma once
// The core's answer for one snapshot: writes to start, or the end of the run
// (a Halt or Done). The two cannot be mixed: a driver executes what
// actions() holds and never has to filter a Halt out of writes.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cnimig/migrate/action.hpp"
#include "cnimig/migrate/node_phase.hpp"

namespace cnimig::migrate {

enum class StepState {
  done,          // its done predicate holds on the snapshot
  running,       // the step the core is working on
  pending,       // not done, an earlier step is not done yet
  not_selected,  // outside --steps and not done
};

std::string_view to_string(StepState state) noexcept;

// Stop the run: a failed gate or a refused step. The cluster is consistent
// and a later run resumes from it.
struct Halt {
  StepId step = StepId::preflight;
  std::string reason;
  friend bool operator==(const Halt&, const Halt&) = default;
};
// Every selected step is done. held: the selection ended with cleanup but
// MigrationSettings::hold_before_cleanup stopped the run before it (`step` is
// then migrate).
struct Done {
  StepId step = StepId::preflight;
  bool held = false;
  friend bool operator==(const Done&, const Done&) = default;
};
// How a run ends.
using RunEnd = std::variant<Halt, Done>;

StepId step_of(const RunEnd& end) noexcept;
// "roll: halt: gate failed: ..." / "cleanup: done", as describe(Action).
std::string describe(const RunEnd& end);

// Writes in execution order, perhaps followed by a RunConnectivityCheck: for
// a whole-cluster gate only when no write is pending or running; for nodes'
// gates beside other nodes' writes (they are unsettled for it).
// Writes of one decision may run concurrently except that the driver must
// keep their relative order per node.
struct Actions {
  std::vector<Action> writes;
  friend bool operator==(const Actions&, const Actions&) = default;
};

struct Decision {
  std::variant<Actions, Halt, Done> next;
  // What the run is waiting for (WaitFor actions); empty when actions move on.
  std::vector<Action> waits;
  std::array<StepState, 6> steps{};
  std::optional<StepId> current_step;
  std::map<std::string, NodePhase> node_phases;

  bool halted() const noexcept { return std::holds_alternative<Halt>(next); }
  bool finished() const noexcept { return std::holds_alternative<Done>(next); }
  const std::string* halt_reason() const noexcept;
  // The actions to start; empty when the run ends.
  const std::vector<Action>& actions() const noexcept;
  // The Halt or Done, if this decision ends the run.
  std::optional<RunEnd> end() const;

  // Every node is at a safe point (at_safe_point): a stop may end here.
  bool all_at_safe_point() const;
  // `action` brings a node in progress to its next safe point (or is a
  // connectivity check, which a node's gate may wait for): what a run that
  // was asked to stop still executes.
  bool continues_a_node(const Action& action) const;
};

// The same two over `phases` (a NodeIndex's, when the decision came with one).
bool all_at_safe_point(const std::map<std::string, NodePhase>& phases);
bool continues_a_node(const std::map<std::string, NodePhase>& phases, const Action& action);

// Whether a node in `phase` is at a safe point: between steps, so acting on
// it would start new work. A stop request waits for every node to be at one
// (cordoned or tainted nodes are what a stop must not leave behind). A joining
// node is never cordoned: a stop may leave it anywhere in its join.
bool at_safe_point(NodePhase phase) noexcept;

// The phase a node has once per-node `step` is done with it (roll: rolled,
// priority: prioritised, migrate: migrated); nullopt for the other steps.
std::optional<NodePhase> done_phase(StepId step) noexcept;

// A phase worth a Kubernetes Event on the Node (`kubectl describe node`):
// its reason and message.
struct Milestone {
  const char* reason;
  const char* message;
};
std::optional<Milestone> milestone(NodePhase phase) noexcept;

}  // namespace cnimig::migrate
