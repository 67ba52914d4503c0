#pragma once
// Disruption controller: keeps every PodDisruptionBudget's status
// (expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed,
// observedGeneration, DisruptionAllowed condition) current; the API layer's
// eviction answers 429 from it. The blocking-pdb fault pins one at 0.

#include <set>
#include <string>

#include "controller_context.hpp"

namespace cnimig::sim {

class DisruptionController {
 public:
  explicit DisruptionController(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty(); }
  void reconcile();

 private:
  void sync_namespace(const std::string& ns);
  ControllerContext& ctx_;
  std::set<std::string> dirty_;  // namespaces
  std::set<std::string> with_pdbs_;
};

}  // namespace cnimig::sim
