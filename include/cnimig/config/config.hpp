#pragma once
// The agent's configuration (config/config.yaml). The schema extends the
// original tool's (labels, paths, preflightResources, watchedResources,
// cleanUpResources) with what the engine needs: the source CNI, the
// connectivity probe, timeouts, parallelism and the Lease.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cnimig/config/gate.hpp"
#include "cnimig/config/strategy.hpp"

namespace cnimig::config {

// Every label key is a Kubernetes qualified name; all share `value`.
struct LabelKeys {
  std::string calico_cilium = "node-role.kubernetes.io/calico-cilium";
  std::string cni_priority_calico = "node-role.kubernetes.io/priority-calico";
  std::string cni_priority_cilium = "node-role.kubernetes.io/priority-cilium";
  std::string rolled = "node-role.kubernetes.io/rolled";
  std::string cilium = "node-role.kubernetes.io/cilium";
  std::string migrated = "node-role.kubernetes.io/migrated";
  // cilium-native: the node is selected for Cilium as its CNI (the
  // CiliumNodeConfig's nodeSelector in paths.cilium-native matches it).
  std::string cilium_default = "io.cilium.migration/cilium-default";
  std::string value = "true";

  // Every key, in the order of src/migrate/README.md's label table.
  std::vector<std::string> all() const {
    return {calico_cilium, cni_priority_calico, cni_priority_cilium, rolled, cilium,
            migrated,      cilium_default};
  }
};

// Manifest bundles, resolved to absolute paths relative to the config file.
// Only the strategy's bundles are read: cilium and multus for multus,
// cilium-native for cilium-native (the others stay empty).
struct ManifestPaths {
  std::filesystem::path cilium;
  std::filesystem::path multus;
  std::filesystem::path cilium_native;
  std::filesystem::path knet_stress;
  std::filesystem::path node_cleanup;  // empty when cleanup.nodeLeftovers is false

  // Each bundle's id (its `paths:` key) and file, the empty ones left out.
  std::vector<std::pair<std::string, std::filesystem::path>> bundles() const;
};

// namespace -> object names, per workload kind, in file order.
using NamespacedNames = std::map<std::string, std::vector<std::string>>;
struct ResourceSet {
  NamespacedNames daemonsets;
  NamespacedNames deployments;
  NamespacedNames statefulsets;

  bool empty() const { return daemonsets.empty() && deployments.empty() && statefulsets.empty(); }
};

// The CNI being replaced: its DaemonSet and the CNI config file it writes.
struct SourceCni {
  std::string daemonset = "canal";
  std::string namespace_ = "kube-system";
  std::string cni_config = "10-canal.conflist";
};

// knet-stress: `command` is exec'd in every pod of `daemonsets`; exit 0 means
// that pod reaches all its peers.
struct Connectivity {
  std::string namespace_ = "knet-stress";
  std::vector<std::string> daemonsets = {"knet-stress", "knet-stress-2"};
  std::vector<std::string> command = {"/knet-stress", "status"};
  unsigned parallelism = 32;  // concurrent execs in one check
  // `sampleNodes`: a node's gate execs the pods on the nodes changed since
  // the last full check plus this many others; unset, every check is full.
  std::optional<unsigned> sample_nodes;
};

struct Timeouts {
  using ms = std::chrono::milliseconds;
  ms api_request{std::chrono::seconds(30)};  // one HTTP request, retries excluded
  ms gate{std::chrono::minutes(15)};         // watched resources ready + a passing check
  ms connectivity{std::chrono::minutes(5)};  // retries of a failing connectivity check
  ms probe{std::chrono::seconds(30)};        // one exec of the probe command
  ms drain{std::chrono::minutes(15)};        // evictions (PDB 429s retried) and pods gone
  ms pod_deletion{std::chrono::minutes(5)};  // deleted pods disappear
  ms rollout{std::chrono::minutes(10)};      // a DaemonSet becomes ready on a node
  // `timeouts.gates`: one gate's timeout by its name, instead of the default
  // for_gate() gives it.
  std::map<Gate, ms> gates;

  // How long a run waits for `gate` before it counts as failed: the one
  // place that maps gates to timeouts. nullopt for the waits on the run's
  // own actions (a running check, writes before a check), which are bounded
  // by those actions' timeouts.
  std::optional<ms> for_gate(Gate g) const;
};

// `maxUnavailable` is a count or a percentage of nodes, like a DaemonSet's.
struct MaxUnavailable {
  unsigned value = 1;
  bool percent = false;

  // Percentages round down (as Kubernetes does for maxUnavailable) but the
  // budget is never below one node, or no progress would be possible.
  unsigned resolve(std::size_t nodes) const;
  friend bool operator==(const MaxUnavailable&, const MaxUnavailable&) = default;
};

struct Parallelism {
  unsigned max_parallel_nodes = 1;
  MaxUnavailable max_unavailable{};
  // Kubernetes API requests in flight at once (the API server throttles
  // beyond its max-requests-inflight, and each one is a connection). Watch
  // streams and pod exec take no slot: kube::ClientOptions says why.
  unsigned max_requests_in_flight = 32;
};

// What a drain may lose (kubectl drain's --force and --delete-emptydir-data).
struct DrainSettings {
  // Pods without a controller are gone for good once evicted: refused unless set.
  bool delete_unmanaged_pods = false;
  // Pods with emptyDir volumes lose that data; the original tool deleted them.
  bool delete_empty_dir_data = true;
};

// config `cleanup:`. nodeLeftovers: remove what the source CNI leaves on each
// node (CNI configs, iptables chains, interfaces) with the node-cleanup
// bundle (paths.node-cleanup) before the nodes' migration labels go.
// hold: end an --apply run before cleanup, the point of no return (the source
// CNI is deleted there), so operators can watch Cilium for a while first.
struct CleanupSettings {
  bool node_leftovers = true;
  bool hold = false;
};

// coordination.k8s.io/v1 Lease that keeps a second agent out.
struct LeaseSettings {
  std::string name = "cnimig-agent";
  std::string namespace_ = "kube-system";
  std::chrono::milliseconds duration{std::chrono::seconds(30)};
};

// The images the shipped manifests use, replaceable for a private registry
// (a mirror): each container whose image has the shipped image's repository
// gets the configured reference.
struct Images {
  std::string cilium = "quay.io/cilium/cilium:v1.18.9";
  std::string cilium_operator = "quay.io/cilium/operator-generic:v1.18.9";
  std::string multus = "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2-thick";
  std::string knet_stress = "gcr.io/jetstack-josh/knet-stress:cli";
};

// `ciliumRequirements:`: what the applied Cilium release needs, stated by the
// operator for a release the agent's table does not know
// (migrate/cilium_requirements.hpp): the Kubernetes minors it supports
// (`kubernetes: "1.30-1.33"`) and the oldest Linux kernel (`kernel: "5.10"`).
struct CiliumRequirements {
  unsigned kubernetes_min_minor = 0;
  unsigned kubernetes_max_minor = 0;
  unsigned kernel_major = 0;
  unsigned kernel_minor = 0;
  friend bool operator==(const CiliumRequirements&, const CiliumRequirements&) = default;
};

struct Config {
  std::filesystem::path source;  // the file this was read from (absolute)
  Strategy strategy = Strategy::multus;
  LabelKeys labels;
  ManifestPaths paths;
  SourceCni source_cni;
  ResourceSet preflight_resources;
  ResourceSet watched_resources;
  ResourceSet cleanup_resources;
  Connectivity connectivity;
  Timeouts timeouts;
  Parallelism parallelism;
  DrainSettings drain;
  CleanupSettings cleanup;
  LeaseSettings lease;
  Images images;
  std::optional<CiliumRequirements> cilium_requirements;  // unset: the agent's table
};

}  // namespace cnimig::config
