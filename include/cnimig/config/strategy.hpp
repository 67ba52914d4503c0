#pragma once
// How the cluster moves to Cilium (`strategy:` in the configuration). Both
// run on the same engine and labels-as-state discipline (src/migrate/README.md):
//
// - multus: both CNIs side by side behind multus-cni; pods get an interface
//   on each network, then Cilium alone node by node (steps roll, priority,
//   migrate).
// - cilium-native: Cilium's own documented live migration ("Migrating a
//   cluster to Cilium", Cilium 1.13+): Cilium runs beside the source CNI with
//   its own overlay and pod CIDR, writes no CNI config until a
//   CiliumNodeConfig selects the node, and pods reach the other CNI's pods
//   through the hosts. No roll or priority step.

#include <optional>
#include <string>
#include <string_view>

#include "cnimig/config/step.hpp"

namespace cnimig::config {

enum class Strategy { multus, cilium_native };

std::string_view to_string(Strategy strategy) noexcept;
std::optional<Strategy> parse_strategy(std::string_view text) noexcept;

// Whether the strategy has the step at all (cilium-native has no roll or
// priority: its per-node step is migrate).
bool has_step(Strategy strategy, Step step) noexcept;

// Why `--steps` cannot be run with `strategy` (a range that starts or ends on
// a step the strategy lacks), or empty when it can.
std::string steps_refusal(Strategy strategy, StepRange steps);

}  // namespace cnimig::config
