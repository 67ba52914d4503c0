// calico-node's readiness when first-found autodetection picked Cilium's
// cilium_host (cni_hazards.hpp): its readiness probe (calico-node
// -bird-ready -felix-ready) fails while Cilium runs on the node.
#include <boost/asio/post.hpp>

#include "kubelet_model.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void KubeletModel::recheck_agent_readiness(const std::string& node) {
  if (ctx_.network.first_found_calico_pods(node) == 0)
    return;
  // Called from a store notification: write from a handler of our own.
  boost::asio::post(io_, [this, node, alive = alive_] {
    if (!*alive)
      return;
    for (const auto& pod : ctx_.store.pods_on_node(node)) {
      if (deleting(*pod) || str(status(*pod), "phase") != "Running")
        continue;
      const bool blocked = ctx_.network.agent_ready_blocked(*pod);
      if (blocked && pod_ready(*pod))
        set_readiness(*pod, false);
      else if (!blocked && !pod_ready(*pod) && !never_ready(node) &&
               ctx_.network.agent_role_of(*pod))
        schedule(scaled(ctx_.options, ctx_.options.agent_ready_delay), Step::ready, key(*pod),
                 std::string(uid(*pod)));
    }
  });
}

void KubeletModel::set_readiness(const json::object& pod, bool ready) {
  const auto now = rfc3339_now();
  json::object next = pod;
  auto& s = next["status"].as_object();
  if (auto* conds = s["conditions"].if_array())
    for (auto& c : *conds) {
      auto& co = c.as_object();
      const auto type = str(&co, "type");
      if (type == "Ready" || type == "ContainersReady") {
        co["status"] = ready ? "True" : "False";
        co["lastTransitionTime"] = now;
      }
    }
  if (auto* cs = s["containerStatuses"].if_array())
    for (auto& c : *cs)
      c.as_object()["ready"] = ready;
  (void)ctx_.store.update_status(ctx_.pods, std::move(next));
}

}  // namespace cnimig::sim
