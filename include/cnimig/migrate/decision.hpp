#pragma once
// The core's answer for one snapshot.

#include <array>
#include <map>
#include <optional>
#include <string>
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

struct Decision {
  // Writes in execution order, possibly followed by RunConnectivityCheck, or a
  // single Halt or Done. Writes of one decision may run concurrently except
  // that the driver must keep their relative order per node.
  std::vector<Action> actions;
  // What the run is waiting for (WaitFor actions); empty when actions move on.
  std::vector<Action> waits;
  std::array<StepState, 6> steps{};
  std::optional<StepId> current_step;
  std::map<std::string, NodePhase> node_phases;

  bool halted() const;    // actions hold a Halt
  bool finished() const;  // actions hold a Done
  const std::string* halt_reason() const;
};

}  // namespace cnimig::migrate
