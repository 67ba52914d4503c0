#pragma once
// The oracle (src/sim/README.md). Fed every committed store change, it keeps,
// per node, which CNI agent roles are active (their config file present, their
// network's dataplane up), each pod's interfaces (fixed at sandbox creation,
// recorded on the pod as the annotation below), and the violation count.
//
// A role is active on a node from the moment one of its agent pods is Ready
// there until no pod of it is Ready AND no DaemonSet of that role should run on
// the node any more. Restarting an agent (rolling update, deleted pod re-created
// by its DaemonSet) keeps the dataplane: Calico/Flannel routes and Cilium's BPF
// programs stay in the kernel; only taking the agent off the node ends it.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/sim/cluster_options.hpp"
#include "cnimig/sim/exec_result.hpp"

#include "cilium_agent_config.hpp"
#include "cni_config_selection.hpp"
#include "violation_tracker.hpp"

namespace cnimig::sim {

// "source,cilium": the pod's networks, primary (pod IP) first.
inline constexpr std::string_view interfaces_annotation = "sim.cnimig.io/interfaces";
// multus pods: the address on the secondary network.
inline constexpr std::string_view secondary_ip_annotation = "sim.cnimig.io/secondary-ip";
// What multus records for kubectl users (k8s.v1.cni.cncf.io/network-status).
inline constexpr std::string_view network_status_annotation = "k8s.v1.cni.cncf.io/network-status";

class CniStack;
class NodeLeftovers;

// What `/knet-stress status` prints: OK with the number of peers, or FAIL
// with the unreachable ones ("name (ip on node)"), sorted.
ExecResult knet_stress_answer(std::vector<std::string> unreachable, std::size_t peers);

struct SandboxNetwork {
  PodInterfaces interfaces;
  std::string pod_ip;
  std::string secondary_ip;  // multus pods: the other network's address
};

class NetworkModel {
 public:
  using Clock = ViolationTracker::Clock;
  explicit NetworkModel(const ClusterOptions& options);
  ~NetworkModel();
  NetworkModel(const NetworkModel&) = delete;
  NetworkModel& operator=(const NetworkModel&) = delete;

  // Feed: before == null for added, after == null for deleted.
  void node_changed(const boost::json::object* before, const boost::json::object* after,
                    Clock::time_point now);
  void daemonset_changed(const boost::json::object* before, const boost::json::object* after,
                         Clock::time_point now);
  void pod_changed(const boost::json::object* before, const boost::json::object* after,
                   Clock::time_point now);
  // cilium-config, kube-flannel-cfg, canal-config: the hazards' settings
  // (network_model_hazards.cpp).
  void configmap_changed(const boost::json::object* before, const boost::json::object* after,
                         Clock::time_point now);
  // CiliumNodeConfigs (cilium.io): read by Cilium agents that start later.
  void node_config_changed(const boost::json::object* before, const boost::json::object* after);

  // Called when a node's active roles change (the kubelet retries sandboxes there).
  void on_node_network_changed(std::function<void(const std::string& node)> callback) {
    network_changed_ = std::move(callback);
  }

  RoleMask active_roles(std::string_view node) const;
  NetworkMask networks_up(std::string_view node) const;
  // The CNI config files present on the node, sorted (an exclusive Cilium's
  // renamed ones as *.cilium_bak).
  std::vector<std::string> config_files(std::string_view node) const;
  // The hazards in effect on the node (cni_hazards.hpp).
  NodeHazards hazards(std::string_view node) const;
  // What the source CNI left on the node (node_leftovers.hpp); empty: nothing.
  std::vector<std::string> leftovers(std::string_view node) const;
  // The pod is a calico-node that cannot turn Ready: first-found picked
  // Cilium's cilium_host on its node.
  bool agent_ready_blocked(const boost::json::object& pod) const;
  // calico-node pods on the node that detect their IP with first-found.
  std::size_t first_found_calico_pods(std::string_view node) const;
  // The agent role of a pod (by its controlling DaemonSet), if any.
  std::optional<AgentRole> agent_role_of(const boost::json::object& pod) const;
  // The effective configuration a Cilium agent pod took at its start
  // (cilium_agent_config.hpp); nullopt for another pod or one not started.
  std::optional<CiliumAgentConfig> cilium_agent_config(std::string_view pod_key) const;

  // The kubelet's CNI ADD on the node now; allocates the IPs.
  std::optional<SandboxNetwork> create_sandbox(std::string_view node, std::string* failure);
  // The pod's recorded interfaces (from the annotation), if it has a sandbox.
  static std::optional<PodInterfaces> interfaces_of(const boost::json::object& pod);
  static std::string interfaces_text(const PodInterfaces& interfaces);

  // `/knet-stress status` in `pod`: 0 iff it reaches every other Ready pod of
  // its namespace's knet-stress DaemonSets (network_model_knet.cpp). Costs
  // O(nodes with such pods) plus the unreachable ones: a connectivity check
  // execs every knet-stress pod, so a per-pod cost would be quadratic.
  ExecResult knet_stress_status(const boost::json::object& pod) const;
  // The Ready knet-stress pods of the namespace (the peers an exec there
  // judges, itself included), from the index knet_stress_status reads.
  std::size_t knet_stress_pods(std::string_view ns) const;
  // A reaches B (both by namespace/name), for tests.
  bool pod_reaches(std::string_view from_key, std::string_view to_key) const;

  const ViolationTracker& tracker() const { return tracker_; }
  boost::json::object report(Clock::time_point now) const;

  // The node's InternalIP (hostNetwork pods, hostIP).
  std::string node_ip(std::string_view node);
  // The node's pod CIDR on the source network (spec.podCIDR), where its pods'
  // source IPs come from.
  std::string pod_cidr(std::string_view node);

 private:
  struct NodeState {
    std::size_t index = 0;
    std::shared_ptr<const boost::json::object> node;
    std::array<std::uint32_t, agent_role_count> ready{};
    RoleMask expected = 0;
    RoleMask active = 0;
    std::array<std::vector<bool>, network_count> ips_used;
    std::array<std::uint32_t, network_count> ip_hint{};
    RoleMask renamed = 0;                  // configs an exclusive Cilium renamed
    std::uint32_t first_found_calico = 0;  // calico-node pods with first-found here
    // Per Cilium role: the configuration of its agent that last turned Ready
    // here (its config file stays, its dataplane with it, across restarts).
    std::array<CiliumAgentConfig, agent_role_count> cilium{};
  };
  struct AgentDaemonSet {
    AgentRole role;
    boost::json::object pod_spec;
  };
  struct PodState {
    std::string node;
    std::string ns;
    std::optional<AgentRole> role;  // agent pods
    bool ready = false;
    bool host_network = false;
    std::optional<PodInterfaces> interfaces;
    std::string knet_owner;  // DaemonSet name for knet-stress pods
    bool counted = false;
    std::string ip;
    std::string secondary_ip;
    bool first_found_calico = false;          // a routing calico-node with first-found
    bool cleanup = false;                     // a pod of kube-system/cnimig-node-cleanup
    std::optional<CiliumAgentConfig> cilium;  // a Cilium agent's, from its start
  };

  NodeState& node_state(std::string_view node);
  const NodeState* find_node(std::string_view node) const;
  void refresh_node(NodeState& node, Clock::time_point now);
  RoleMask expected_roles(const boost::json::object& node) const;
  void release_ip(std::string_view node, Network net, std::string_view ip);
  // The hazards' hooks (network_model_hazards.cpp).
  RoleMask renamed_configs(const NodeState& node, RoleMask active) const;
  NodeHazards hazards_of(const NodeState& node) const;
  void withdraw_pod_hazards(const PodState& old, NodeState& node);
  void add_pod_hazards(PodState& pod, const boost::json::object& object, NodeState& node,
                       bool was_ready);
  std::optional<std::string> address_on(const NodeState& node, Network net,
                                        std::uint32_t host) const;
  // The Cilium agent's configuration, taken once its pod has started
  // (network_model_cilium.cpp).
  void take_cilium_config(PodState& pod, const PodState* old, const boost::json::object& object,
                          const NodeState& node) const;
  RoleFiles role_files(const NodeState& node) const;
  void add_hazard_report(boost::json::object& report) const;

  // The Ready pods of knet-stress* DaemonSets, by namespace and node:
  // reachability from a pod depends on the peer's node and IP network only,
  // so knet_stress_status judges each (node, kind) once. Kept by pod_changed.
  enum class KnetKind : std::uint8_t { host, none, source, cilium };
  struct KnetPeer {
    std::string key;   // namespace/name
    std::string text;  // how the status lists it unreachable: "name (ip on node)"
    KnetKind kind;
  };
  struct KnetNode {
    std::string name;
    // The node's index in tracker_ (its networks and hazards side by side);
    // none for pods without a node.
    std::optional<std::size_t> index;
    std::array<std::uint32_t, 4> count{};  // by KnetKind
    std::vector<KnetPeer> pods;
  };
  struct KnetNamespace {
    std::size_t pods = 0;
    std::vector<KnetNode> nodes;                        // dense: every exec walks them all
    std::unordered_map<std::string, std::size_t> slot;  // node name -> position in nodes
  };
  static bool knet_peer(const PodState& pod);
  void index_knet_peer(const std::string& key, const PodState& pod);
  void unindex_knet_peer(const std::string& key, const PodState& pod);

  ClusterOptions options_;
  std::map<std::string, AgentRole, std::less<>> agents_;
  ViolationTracker tracker_;
  std::unordered_map<std::string, NodeState> nodes_;
  std::map<std::string, AgentDaemonSet, std::less<>> agent_daemonsets_;  // ns/name
  std::unordered_map<std::string, PodState> pods_;
  std::unordered_map<std::string, KnetNamespace> knet_;  // by namespace
  std::function<void(const std::string&)> network_changed_;
  std::unique_ptr<CniStack> stack_;
  std::unique_ptr<NodeLeftovers> leftovers_;
  std::optional<boost::json::object> cilium_config_;  // kube-system/cilium-config
  CiliumNodeConfigs node_configs_;                    // kube-system's, by name
};

}  // namespace cnimig::sim
