#pragma once
// Deployment controller: one ReplicaSet per pod template (name-<pod-template-hash>),
// the current one scaled to spec.replicas and older ones to 0 once it is
// available, status with updated/ready/available replicas and the Available
// and Progressing conditions `kubectl rollout status` reads.

#include <set>
#include <string>
#include <vector>

#include "controller_context.hpp"
#include "owned_index.hpp"

namespace cnimig::sim {

class DeploymentController {
 public:
  explicit DeploymentController(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty(); }
  void reconcile();

 private:
  void sync(const std::string& key);
  ObjectPtr current_replicaset(const boost::json::object& deployment,
                               const std::vector<ObjectPtr>& sets, const std::string& rs_name,
                               const std::string& hash, std::int64_t replicas);
  ControllerContext& ctx_;
  std::set<std::string> dirty_;
  OwnedIndex replicasets_{"Deployment"};
};

}  // namespace cnimig::sim
