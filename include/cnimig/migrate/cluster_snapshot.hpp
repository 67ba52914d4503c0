#pragma once
// What the watches have seen, slimmed to the fields the core reads. The driver
// may keep one ClusterSnapshot as its watch cache and update it in place; the
// core takes it by const reference and never keeps it.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cnimig/migrate/action.hpp"
#include "cnimig/migrate/object_ref.hpp"
#include "cnimig/migrate/taint.hpp"

namespace cnimig::migrate {

struct PodState {
  std::string ns;
  std::string name;
  std::string uid;  // metadata.uid: tells a re-created pod of the same name apart
  // metadata.ownerReferences[controller=true]: "DaemonSet", "ReplicaSet",
  // "StatefulSet", "Job", ... or empty for a bare pod.
  std::string owner_kind;
  std::string owner_name;
  bool host_network = false;
  // A static pod's API mirror (annotation kubernetes.io/config.mirror): the
  // kubelet owns it, deleting it through the API does nothing useful.
  bool mirror = false;
  bool ready = true;
  bool terminating = false;  // metadata.deletionTimestamp is set
  // spec.volumes[].emptyDir: the volume's data is lost when the pod is
  // evicted or deleted (kubectl drain refuses such pods without
  // --delete-emptydir-data).
  bool empty_dir = false;
  std::int64_t created = 0;  // metadata.creationTimestamp, Unix seconds

  bool daemon_set_owned() const { return owner_kind == "DaemonSet"; }
  // No controller re-creates it: evicted or deleted, it is gone for good
  // (kubectl drain refuses it without --force).
  bool unmanaged() const { return owner_kind.empty() && !mirror; }
  friend bool operator==(const PodState&, const PodState&) = default;
};

struct NodeState {
  std::string name;
  std::map<std::string, std::string> labels;
  // Only annotations under MigrationSettings::annotation_prefix.
  std::map<std::string, std::string> annotations;
  std::vector<Taint> taints;
  bool unschedulable = false;  // spec.unschedulable (cordon)
  bool ready = true;           // condition Ready=True
  std::vector<PodState> pods;  // pods bound to this node (spec.nodeName)

  friend bool operator==(const NodeState&, const NodeState&) = default;
};

// A watched workload. `ready` follows src/migrate/README.md "Readiness" (DaemonSet:
// observedGeneration >= generation and desired == updated == ready ==
// available; Deployment/StatefulSet: `kubectl rollout status` rules).
struct WorkloadState {
  bool exists = false;
  bool ready = false;
  // DaemonSets: spec.template.spec.nodeSelector. The core reads it to tell
  // whether the source CNI is patched and whether cilium-migrated still has
  // its selector (cleanup's first write removes it).
  std::map<std::string, std::string> node_selector;
  std::string detail;  // e.g. "2/3 ready", shown in waits
  // DaemonSets: status.desiredNumberScheduled, the nodes that should run its
  // pod. A connectivity check proves the whole cluster only when it hears
  // from that many knet-stress pods.
  std::int64_t desired = 0;

  friend bool operator==(const WorkloadState&, const WorkloadState&) = default;
};

// The latest connectivity check of this run (src/migrate/README.md: every
// knet-stress instance reaches all its peers). The driver retries a failing
// check until its timeout and reports only the final outcome, so `passed ==
// false` is a failed gate.
struct CheckResult {
  bool passed = false;
  // ClusterSnapshot::write_generation when the check started. A check counts
  // for a gate only if no write happened since (generation == current).
  std::uint64_t generation = 0;
  std::string detail;  // failing pods, for the Halt reason

  friend bool operator==(const CheckResult&, const CheckResult&) = default;
};

// An eviction answered 429 because a PodDisruptionBudget allows no disruption.
// The driver retries it with backoff; the core only reports it in its waits.
struct BlockedEviction {
  std::string ns;
  std::string name;
  std::string pdb;

  friend bool operator==(const BlockedEviction&, const BlockedEviction&) = default;
};

// Something the driver gave up on (a gate or drain timeout, a PDB that never
// allowed the eviction). Any failure stops new nodes from starting.
struct Failure {
  std::string node;  // empty when not about one node
  std::string reason;

  friend bool operator==(const Failure&, const Failure&) = default;
};

struct ClusterSnapshot {
  // API server time in Unix seconds, a second the server's clock has
  // certainly reached (the driver learns the server's clock from the Date
  // headers of its responses, kube::ServerClock): it is compared with pods'
  // creationTimestamp, which the server's clock wrote. Never this machine's
  // clock: the two may be seconds apart.
  std::int64_t now = 0;

  std::map<std::string, NodeState> nodes;  // by name
  std::vector<PodState> unscheduled_pods;  // not bound to a node (the core ignores them)

  // Watched, preflight and cleanup resources plus the source CNI, cilium,
  // cilium-migrated and multus DaemonSets. Absent key == object absent.
  std::map<ObjectRef, WorkloadState> workloads;

  // Bundle ids whose objects all exist (the driver detects this from objects).
  std::set<std::string> applied_bundles;

  // --- driver state of this run (empty after a restart) ---
  // Incremented by the driver for every write it issues.
  std::uint64_t write_generation = 0;
  std::optional<CheckResult> last_check;
  std::vector<BlockedEviction> blocked_evictions;
  std::vector<Failure> failures;
  // metadata.uid of the pods this run evicted or deleted (the API accepted
  // it) that the watch still shows: the core treats them as terminating, so
  // no pod is evicted or deleted twice while its removal is on the way.
  std::set<std::string> removed_pods;
  // Actions issued and not yet finished; the core does not emit them again.
  std::vector<Action> in_flight;

  const WorkloadState* workload(const ObjectRef& ref) const {
    auto it = workloads.find(ref);
    return it == workloads.end() ? nullptr : &it->second;
  }
  bool exists(const ObjectRef& ref) const {
    const auto* w = workload(ref);
    return w != nullptr && w->exists;
  }

  friend bool operator==(const ClusterSnapshot&, const ClusterSnapshot&) = default;
};

}  // namespace cnimig::migrate
