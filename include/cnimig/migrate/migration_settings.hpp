#pragma once
// Everything the core needs from the configuration, as plain values. The
// driver fills it from cnimig::config::Config; `defaults()` mirrors
// config/config.yaml so tests and plan mode need no file.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cnimig/config/config.hpp"
#include "cnimig/migrate/object_ref.hpp"

namespace cnimig::migrate {

// Node label keys (src/migrate/README.md, "Labels are the state") are
// config's; every label carries `value`.
using LabelKeys = config::LabelKeys;

// kind ("DaemonSet", "Deployment", "StatefulSet") -> namespace -> names.
using ResourceSet = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

std::vector<ObjectRef> flatten(const ResourceSet& set);

// Identifiers of the manifest bundles (config `paths:` keys). The driver maps
// an id to its file and reports a bundle as applied when its objects exist.
struct BundleIds {
  std::string cilium = "cilium";
  std::string multus = "multus";
  // cilium-native: paths.cilium-native without its CiliumNodeConfig, and the
  // CiliumNodeConfig alone (applied once cilium-operator, which registers its
  // CRD, is Ready).
  std::string cilium_native = "cilium-native";
  std::string cilium_node_config = "cilium-node-config";
  std::string knet_stress = "knet-stress";
  std::string node_cleanup = "node-cleanup";
};

struct MigrationSettings {
  // config `strategy`: which steps run (src/migrate/README.md).
  config::Strategy strategy = config::Strategy::multus;
  LabelKeys labels;
  // Facts that labels and objects cannot hold (src/migrate/README.md) are node
  // annotations under this prefix.
  std::string annotation_prefix = "cnimig.io/";

  ObjectRef source_cni{kDaemonSet, "kube-system", "canal"};

  std::string system_namespace = "kube-system";
  std::string cilium_daemon_set = "cilium";                    // writes 99-cilium.conf
  std::string cilium_migrated_daemon_set = "cilium-migrated";  // writes 00-cilium.conf
  std::string multus_calico_daemon_set = "kube-multus-calico";
  std::string multus_cilium_daemon_set = "kube-multus-cilium";

  std::string knet_stress_namespace = "knet-stress";
  std::vector<std::string> knet_stress_daemon_sets = {"knet-stress", "knet-stress-2"};

  ResourceSet preflight_resources;
  ResourceSet watched_resources;
  ResourceSet cleanup_resources;

  BundleIds bundles;

  // config `cleanup.nodeLeftovers`: cleanup runs the node-cleanup bundle's
  // DaemonSet (paths.node-cleanup) on every node once the source CNI, multus
  // and the first Cilium have left them all, and takes a node's migration
  // labels off only once that DaemonSet's pod is Ready there (its init
  // container removed the source CNI's files, iptables chains and links).
  bool remove_node_leftovers = true;
  // config `cleanup.hold`: a run whose selection ends with cleanup ends
  // before cleanup's first write instead (Done with held set). Once cleanup
  // has visibly started it no longer holds: stopping half-way through the
  // deletions would protect nothing.
  bool hold_before_cleanup = false;
  // config `connectivity.sampleNodes`: a node's gate execs the knet-stress
  // pods on the nodes written since the last full check plus this many
  // others at random (RunConnectivityCheck); the last node of each step and
  // the whole-cluster gates still get a full check. Unset: every check is full.
  std::optional<unsigned> check_sample_nodes;
  std::string node_cleanup_daemon_set = "cnimig-node-cleanup";

  // What cleanup restores once every node runs Cilium alone: the values of
  // Cilium's own defaults for what the migration switched off (its guide's
  // post-migration step), in the ConfigMap of paths.cilium, and the operator
  // that reads them.
  std::string cilium_config_map = "cilium-config";
  std::string cilium_operator_deployment = "cilium-operator";
  std::map<std::string, std::string> cilium_defaults = {
      {"enable-policy", "default"},               // policyEnforcementMode
      {"unmanaged-pod-watcher-interval", "15"}};  // operator.unmanagedPodWatcher.restart

  // cilium-native: the CiliumNodeConfig that selects the labels.cilium-default
  // nodes, the pod CIDR of Cilium's cluster pool (cilium-config's
  // cluster-pool-ipv4-cidr in paths.cilium-native: a re-created pod must have
  // its address there), and what the finish writes into cilium-config:
  // Cilium's defaults for what the migration changed, with the CNI config
  // file the CiliumNodeConfig gave the migrated nodes. enable-host-legacy-
  // routing stays: turning it off needs every agent restarted again.
  std::string cilium_node_config = "cilium-default";
  std::string cilium_pod_cidr = "10.217.0.0/16";
  std::map<std::string, std::string> native_cilium_defaults = {
      {"custom-cni-conf", "false"},  // cni.customConf
      {"write-cni-conf-when-ready", "/host/etc/cni/net.d/05-cilium.conflist"},
      {"cni-exclusive", "true"},                  // cni.exclusive
      {"enable-policy", "default"},               // policyEnforcementMode
      {"unmanaged-pod-watcher-interval", "15"}};  // operator.unmanagedPodWatcher.restart

  // config `drain:`. A pod without a controller is lost for good once
  // evicted; kubectl drain refuses it without --force, and so does the
  // migration (before the node is cordoned) unless this is set.
  bool delete_unmanaged_pods = false;
  // Pods with emptyDir volumes lose that data when re-created. The original
  // tool deleted them; false refuses them like unmanaged pods
  // (kubectl drain's --delete-emptydir-data).
  bool delete_empty_dir_data = true;

  // Test only, never set from the configuration or a flag: the roll step
  // labels each node rolled without re-creating its pods, the mistake that
  // leaves pods without a Cilium interface. test/e2e/engine_e2e_test.cpp runs
  // the agent in-process with it to prove the e2e oracle sees violations.
  bool skip_roll_for_tests = false;

  bool native() const { return strategy == config::Strategy::cilium_native; }

  // The values of config/config.yaml (source CNI canal).
  static MigrationSettings defaults();

  std::string annotation(std::string_view name) const {
    return annotation_prefix + std::string(name);
  }
  // The value of annotation `name` (after the prefix) in `annotations`, or
  // null. Without building the key: the core asks this of every node on
  // every call, and a node holds at most a few of our annotations.
  const std::string* find_annotation(const std::map<std::string, std::string>& annotations,
                                     std::string_view name) const {
    for (const auto& [key, value] : annotations) {
      if (is_annotation(key, name))
        return &value;
    }
    return nullptr;
  }
  // Whether `key` is annotation `name` (after the prefix).
  bool is_annotation(std::string_view key, std::string_view name) const noexcept {
    return key.size() == annotation_prefix.size() + name.size() &&
           key.starts_with(annotation_prefix) && key.ends_with(name);
  }
  ObjectRef cilium() const { return {kDaemonSet, system_namespace, cilium_daemon_set}; }
  ObjectRef cilium_migrated() const {
    return {kDaemonSet, system_namespace, cilium_migrated_daemon_set};
  }
  ObjectRef multus_calico() const {
    return {kDaemonSet, system_namespace, multus_calico_daemon_set};
  }
  ObjectRef multus_cilium() const {
    return {kDaemonSet, system_namespace, multus_cilium_daemon_set};
  }
  ObjectRef cilium_operator() const {
    return {kDeployment, system_namespace, cilium_operator_deployment};
  }
  ObjectRef node_cleanup() const { return {kDaemonSet, system_namespace, node_cleanup_daemon_set}; }
  std::vector<ObjectRef> knet_stress() const;
};

// Annotation names (after the prefix) the core writes on nodes.
namespace annotation_names {
// "true" when the node was unschedulable before the agent started a step on
// it: the agent then neither counts it against the budget nor uncordons it.
inline constexpr std::string_view kWasCordoned = "was-cordoned";
// Per-step progress: "started", "deleting", "pods-deleted". Written before the
// work it announces, removed only once the step's completion is recorded.
inline constexpr std::string_view kRoll = "roll";
inline constexpr std::string_view kPriority = "priority";
inline constexpr std::string_view kMigrate = "migrate";
// Unix seconds (API server clock): pods on the node created before it are the
// ones the step must re-create. It is the second after the one in which it
// was recorded, and no pod is deleted before the server's clock reaches it
// (see delete_old_pods in node_roll.cpp).
inline constexpr std::string_view kRollPodsBefore = "roll-pods-before";
inline constexpr std::string_view kPriorityPodsBefore = "priority-pods-before";
inline constexpr std::string_view kMigratePodsBefore = "migrate-pods-before";
// cilium-native's per-node step (node_native.cpp): its stage ("started",
// "deleting", "pods-deleted"), the cut-off of the node's pods, and the
// cut-off of its Cilium agent pod (written with the cilium-default label: an
// agent created before it read no CiliumNodeConfig for the node).
inline constexpr std::string_view kNative = "native";
inline constexpr std::string_view kNativePodsBefore = "native-pods-before";
inline constexpr std::string_view kNativeAgentBefore = "native-agent-before";
// Unix seconds (API server clock), written with the cordon: a drain evicts the
// pods created up to then, as kubectl drain evicts those present when it
// starts. A pod that tolerates the cordon (cilium-operator tolerates every
// taint) and is scheduled back onto the node is not evicted again and again:
// the step's deletion or taint deals with it.
inline constexpr std::string_view kDrainSince = "drain-since";
// A node that joined during the migration: "started", "deleting",
// "pods-deleted" (node_join.cpp), and its deletion cut-off.
inline constexpr std::string_view kJoin = "join";
inline constexpr std::string_view kJoinPodsBefore = "join-pods-before";
// A rollback (src/migrate/README.md "Rollback"): the reverse of migrate,
// priority and roll on the node, "started", "deleting", "pods-deleted", and
// each one's deletion cut-off.
inline constexpr std::string_view kRollbackMigrate = "rollback-migrate";
inline constexpr std::string_view kRollbackPriority = "rollback-priority";
inline constexpr std::string_view kRollbackRoll = "rollback-roll";
inline constexpr std::string_view kRollbackMigratePodsBefore = "rollback-migrate-pods-before";
inline constexpr std::string_view kRollbackPriorityPodsBefore = "rollback-priority-pods-before";
inline constexpr std::string_view kRollbackRollPodsBefore = "rollback-roll-pods-before";
}  // namespace annotation_names

namespace stage {
inline constexpr std::string_view kStarted = "started";
inline constexpr std::string_view kDeleting = "deleting";
inline constexpr std::string_view kPodsDeleted = "pods-deleted";
}  // namespace stage

}  // namespace cnimig::migrate
