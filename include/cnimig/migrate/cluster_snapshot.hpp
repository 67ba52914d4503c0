#pragma once
// What the watches have seen, slimmed to the fields the core reads. The
// watch cache (agent's ClusterCache) owns it and alone updates it; what the
// run itself did and learnt is the driver's RunRecord (run_record.hpp). The
// core takes both by const reference and keeps neither.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cnimig/migrate/interned_string.hpp"
#include "cnimig/migrate/object_ref.hpp"
#include "cnimig/migrate/pod_uid.hpp"
#include "cnimig/migrate/taint.hpp"

namespace cnimig::migrate {

// One per pod in the watch cache (170,000 at 5,000 nodes): namespace and
// owner, shared by many pods, are interned (8 bytes each instead of 32), the
// uid kept as its 16 bytes (pod_uid.hpp).
struct PodState {
  InternedString ns;
  std::string name;
  PodUid uid;  // metadata.uid: tells a re-created pod of the same name apart
  // metadata.ownerReferences[controller=true]: "DaemonSet", "ReplicaSet",
  // "StatefulSet", "Job", ... or empty for a bare pod.
  InternedString owner_kind;
  InternedString owner_name;
  // The creation second and the flags share one word (bit-fields): with
  // created_version the struct stays at 128 bytes (interned_string_test).
  std::int64_t created : 48 = 0;  // metadata.creationTimestamp, Unix seconds
  bool host_network : 1 = false;
  // A static pod's API mirror (annotation kubernetes.io/config.mirror): the
  // kubelet owns it, deleting it through the API does nothing useful.
  bool mirror : 1 = false;
  bool ready : 1 = true;
  bool terminating : 1 = false;  // metadata.deletionTimestamp is set
  // spec.volumes[].emptyDir: the volume's data is lost when the pod is
  // evicted or deleted (kubectl drain refuses such pods without
  // --delete-emptydir-data).
  bool empty_dir : 1 = false;
  // metadata.resourceVersion of the pod's creation, as the watch showed it
  // being added; 0 when unknown (the pod came from a list). Finer than
  // `created`: see NodeState::cutoff_orders.
  std::uint64_t created_version = 0;
  // status.podIP, empty until assigned (hostNetwork pods: the node's). The
  // cilium-native step checks that re-created pods took Cilium's addresses.
  std::string ip;

  bool daemon_set_owned() const { return owner_kind == "DaemonSet"; }
  // No controller re-creates it: evicted or deleted, it is gone for good
  // (kubectl drain refuses it without --force).
  bool unmanaged() const { return owner_kind.empty() && !mirror; }
  friend bool operator==(const PodState&, const PodState&) = default;
};

// Where a cut-off annotation (its `value`, Unix seconds) falls among the
// pods: every pod created before the write that recorded it has a
// resourceVersion of at most `pod_version`, the version of a list of pods
// read after that write returned. A pod the watch showed being created with
// a larger version was created after the cut-off, within its second too.
// Valid only while the annotation keeps `value`.
struct CutoffOrder {
  std::string value;
  std::uint64_t pod_version = 0;
  friend bool operator==(const CutoffOrder&, const CutoffOrder&) = default;
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
  // Cut-off annotations placed in the pods' resourceVersion order (by
  // annotation name): known only to the run that wrote them.
  std::map<std::string, CutoffOrder> cutoff_orders;

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

  // The node selector picks `node` (its labels hold every key and value; an
  // empty selector picks every node), as the DaemonSet controller decides.
  bool selects(const NodeState& node) const;

  friend bool operator==(const WorkloadState&, const WorkloadState&) = default;
};

struct ClusterSnapshot {
  std::map<std::string, NodeState> nodes;  // by name
  std::vector<PodState> unscheduled_pods;  // not bound to a node (the core ignores them)

  // Watched, preflight and cleanup resources plus the source CNI, cilium,
  // cilium-migrated and multus DaemonSets. Absent key == object absent.
  std::map<ObjectRef, WorkloadState> workloads;

  // Bundle ids whose objects all exist (the driver detects this from objects).
  std::set<std::string> applied_bundles;

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
