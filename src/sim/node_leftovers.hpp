#pragma once
// What a source CNI leaves on a node once its pod has left it: its CNI config
// file, multus's 00-multus.conflist and multus.d, its iptables chains and its
// interfaces (tunl0, vxlan.calico, flannel.1, cni0). Nothing on the node
// removes them; a pod of the agent's cleanup DaemonSet
// (kube-system/cnimig-node-cleanup) does once it is Ready on a node where no
// source CNI pod runs.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cnimig::sim {

inline constexpr std::string_view cleanup_daemonset_namespace = "kube-system";
inline constexpr std::string_view cleanup_daemonset_name = "cnimig-node-cleanup";

class NodeLeftovers {
 public:
  // A source CNI pod appears on (+1) or leaves (-1) the node, or turns Ready there.
  void source_pod(const std::string& node, int present_delta, bool ready);
  // A cleanup pod turns Ready (+1) or stops being Ready or leaves (-1).
  void cleanup_pod(const std::string& node, int ready_delta);
  void node_removed(const std::string& node);

  bool has_leftovers(const std::string& node) const;
  std::size_t nodes_with_leftovers() const;
  // What is left on the node, given the source's config file and interfaces.
  std::vector<std::string> leftovers(const std::string& node, std::string_view source_config,
                                     const std::vector<std::string>& interfaces) const;

 private:
  struct State {
    std::int64_t source_pods = 0;
    std::int64_t cleanup_ready = 0;
    bool ran = false;  // a source CNI pod was Ready here since the last cleanup
  };
  void settle(State& s);
  std::unordered_map<std::string, State> nodes_;
};

}  // namespace cnimig::sim
