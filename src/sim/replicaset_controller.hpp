#pragma once
// ReplicaSet controller: keeps spec.replicas live pods (replacing deleted and
// evicted ones; the scheduler places them), status replicas/readyReplicas/
// availableReplicas/fullyLabeledReplicas/observedGeneration.

#include <set>
#include <string>

#include "controller_context.hpp"
#include "owned_index.hpp"

namespace cnimig::sim {

class ReplicaSetController {
 public:
  explicit ReplicaSetController(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty(); }
  void reconcile();

 private:
  void sync(const std::string& key);
  ControllerContext& ctx_;
  std::set<std::string> dirty_;
  OwnedIndex pods_{"ReplicaSet"};
};

}  // namespace cnimig::sim
