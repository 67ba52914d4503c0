#pragma once
// What the operator asked for: `--steps` (an inclusive range) and `--nodes`
// (a subset of nodes for the per-node steps roll, priority and migrate).

#include <set>
#include <string>

#include "cnimig/config/step.hpp"
#include "cnimig/migrate/step_id.hpp"

namespace cnimig::migrate {

struct Selection {
  config::StepRange steps{};  // every step by default
  // Empty means every node. prepare and cleanup always act on every node: a
  // node left without the calico-cilium label would lose the source CNI as soon
  // as its DaemonSet is patched.
  std::set<std::string> nodes;
  // `--rollback`: return the nodes (all, or `nodes`) to the source CNI
  // instead of migrating them (src/migrate/README.md "Rollback"); `steps`
  // is then unused.
  bool rollback = false;

  bool includes(StepId step) const noexcept { return steps.contains(step); }
  bool includes_node(const std::string& node) const {
    return nodes.empty() || nodes.contains(node);
  }
};

}  // namespace cnimig::migrate
