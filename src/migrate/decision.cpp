// The Decision's accessors and the phase knowledge a driver needs to report
// and to stop safely, kept beside the phases they name.

#include "cnimig/migrate/decision.hpp"

#include <algorithm>

namespace cnimig::migrate {

std::string_view to_string(StepState state) noexcept {
  switch (state) {
    case StepState::done:
      return "done";
    case StepState::running:
      return "running";
    case StepState::pending:
      return "pending";
    case StepState::not_selected:
      return "not-selected";
  }
  return "unknown";
}

StepId step_of(const RunEnd& end) noexcept {
  return std::visit([](const auto& e) { return e.step; }, end);
}

std::string describe(const RunEnd& end) {
  const auto head = std::string(to_string(step_of(end))) + ": ";
  if (const auto* h = std::get_if<Halt>(&end))
    return head + "halt: " + h->reason;
  if (std::get<Done>(end).held)
    return head + "done, held before cleanup (cleanup.hold)";
  return head + "done";
}

const std::string* Decision::halt_reason() const noexcept {
  const auto* h = std::get_if<Halt>(&next);
  return h == nullptr ? nullptr : &h->reason;
}

const std::vector<Action>& Decision::actions() const noexcept {
  static const std::vector<Action> none;
  const auto* a = std::get_if<Actions>(&next);
  return a == nullptr ? none : a->writes;
}

std::optional<RunEnd> Decision::end() const {
  if (const auto* h = std::get_if<Halt>(&next))
    return RunEnd{*h};
  if (const auto* d = std::get_if<Done>(&next))
    return RunEnd{*d};
  return std::nullopt;
}

bool Decision::all_at_safe_point() const {
  return migrate::all_at_safe_point(node_phases);
}

bool Decision::continues_a_node(const Action& action) const {
  return migrate::continues_a_node(node_phases, action);
}

bool all_at_safe_point(const std::map<std::string, NodePhase>& phases) {
  return std::all_of(phases.begin(), phases.end(),
                     [](const auto& np) { return at_safe_point(np.second); });
}

bool continues_a_node(const std::map<std::string, NodePhase>& phases, const Action& action) {
  if (std::holds_alternative<RunConnectivityCheck>(action.kind))
    return true;
  if (action.node.empty())
    return false;
  const auto phase = phases.find(action.node);
  return phase != phases.end() && !at_safe_point(phase->second);
}

bool at_safe_point(NodePhase p) noexcept {
  switch (p) {
    case NodePhase::unprepared:
    case NodePhase::joining:
    case NodePhase::join_cni_wait:
    case NodePhase::join_deleting_pods:
    case NodePhase::join_awaiting_gate:
    case NodePhase::prepared:
    case NodePhase::rolled:
    case NodePhase::prioritised:
    case NodePhase::native_pending:
    case NodePhase::migrated:
    case NodePhase::cleaned:
      return true;
    default:
      return false;
  }
}

std::optional<NodePhase> done_phase(StepId step) noexcept {
  switch (step) {
    case StepId::roll:
      return NodePhase::rolled;
    case StepId::priority:
      return NodePhase::prioritised;
    case StepId::migrate:
      return NodePhase::migrated;
    default:
      return std::nullopt;
  }
}

std::optional<Milestone> milestone(NodePhase p) noexcept {
  switch (p) {
    case NodePhase::rolled:
      return Milestone{"CniMigrationRolled", "pods re-created with both CNIs' interfaces"};
    case NodePhase::prioritised:
      return Milestone{"CniMigrationPrioritised", "pods now take their IP from Cilium"};
    case NodePhase::migrated:
      return Milestone{"CniMigrated", "node runs Cilium only"};
    default:
      return std::nullopt;
  }
}

}  // namespace cnimig::migrate
