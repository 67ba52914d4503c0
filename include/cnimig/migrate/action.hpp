#pragma once
// What the core asks the driver to do: small value types, each idempotent
// when executed against the cluster (src/migrate/README.md, "Labels are
// the state"). Node metadata changes are JSON merge patches: `set` entries
// become values, `remove` entries become null.

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cnimig/migrate/gate.hpp"
#include "cnimig/migrate/object_ref.hpp"
#include "cnimig/migrate/step_id.hpp"
#include "cnimig/migrate/taint.hpp"

namespace cnimig::migrate {

struct LabelNode {
  std::string node;
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
  // The labels that bring a node which joined during the migration into its
  // state (event node.joined instead of node.labelled).
  bool join = false;
  friend bool operator==(const LabelNode&, const LabelNode&) = default;
};
struct AnnotateNode {
  std::string node;
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
  // The annotation in `set` that records a pod cut-off, if any: once the
  // write returns, the driver reads where it falls in the pods'
  // resourceVersion order (NodeState::cutoff_orders).
  std::string cutoff = {};
  friend bool operator==(const AnnotateNode&, const AnnotateNode&) = default;
};
struct SetCordon {
  std::string node;
  bool unschedulable = true;
  friend bool operator==(const SetCordon&, const SetCordon&) = default;
};
struct AddTaint {
  std::string node;
  Taint taint;
  friend bool operator==(const AddTaint&, const AddTaint&) = default;
};
struct RemoveTaint {
  std::string node;
  Taint taint;
  friend bool operator==(const RemoveTaint&, const RemoveTaint&) = default;
};
// Through the eviction subresource, so PodDisruptionBudgets are honoured.
struct EvictPod {
  std::string ns;
  std::string name;
  std::string uid;         // metadata.uid: this incarnation only
  bool empty_dir = false;  // its emptyDir data is lost (shown in the plan)
  friend bool operator==(const EvictPod&, const EvictPod&) = default;
};
// With a uid precondition: a StatefulSet's replacement keeps the name, and
// must not be deleted in its predecessor's place.
struct DeletePod {
  std::string ns;
  std::string name;
  std::string uid;         // metadata.uid
  bool empty_dir = false;  // its emptyDir data is lost (shown in the plan)
  friend bool operator==(const DeletePod&, const DeletePod&) = default;
};
// Server-side apply of a bundle; the driver rewrites the default label keys
// in the manifests' node selectors and tolerations to the configured ones.
struct ApplyBundle {
  std::string id;
  friend bool operator==(const ApplyBundle&, const ApplyBundle&) = default;
};
// Delete every object of a bundle (cleanup of multus).
struct DeleteBundle {
  std::string id;
  friend bool operator==(const DeleteBundle&, const DeleteBundle&) = default;
};
// Merge patch of spec.template.spec.nodeSelector.
struct PatchDaemonSetNodeSelector {
  std::string ns;
  std::string name;
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
  friend bool operator==(const PatchDaemonSetNodeSelector&,
                         const PatchDaemonSetNodeSelector&) = default;
};
// The end of the migration-only Cilium settings (policy enforcement off,
// unmanaged pods left alone): merge `data` into the Cilium ConfigMap and
// restart the operator that reads it. The agents read it when cleanup's
// rollout of cilium-migrated replaces them, which is why this comes first.
struct RestoreCiliumDefaults {
  std::string ns;
  std::string config_map;
  std::map<std::string, std::string> data;
  std::string operator_deployment;
  // DaemonSets restarted after the merge (`kubectl rollout restart`'s pod
  // template annotation): cilium-native's agents read the restored values
  // only when they start.
  std::vector<std::string> restart_daemon_sets = {};
  friend bool operator==(const RestoreCiliumDefaults&, const RestoreCiliumDefaults&) = default;
};
struct DeleteObject {
  ObjectRef object;
  friend bool operator==(const DeleteObject&, const DeleteObject&) = default;
};
// Exec the probe in every knet-stress pod; the result comes back as
// RunRecord::last_check with the generation at which it started.
//
// A sampled check (MigrationSettings::check_sample_nodes) names `nodes`: only
// the knet-stress pods on them are exec'd, plus those on `sample` other
// nodes the driver picks at random. A knet-stress pod's status covers its
// exchanges with every peer in both directions, so the pods on the nodes
// that changed prove those nodes. Empty `nodes`: every pod (a full check).
struct RunConnectivityCheck {
  std::vector<std::string> nodes;
  unsigned sample = 0;
  friend bool operator==(const RunConnectivityCheck&, const RunConnectivityCheck&) = default;
};
// Nothing to do until the snapshot changes. `gate` names what is awaited
// (its timeout is config::Timeouts::for_gate); `pending` lists the objects.
struct WaitFor {
  Gate gate = Gate::resources_ready;
  std::vector<std::string> pending;
  friend bool operator==(const WaitFor&, const WaitFor&) = default;
};

using ActionKind = std::variant<LabelNode, AnnotateNode, SetCordon, AddTaint, RemoveTaint, EvictPod,
                                DeletePod, ApplyBundle, DeleteBundle, PatchDaemonSetNodeSelector,
                                RestoreCiliumDefaults, DeleteObject, RunConnectivityCheck, WaitFor>;

struct Action {
  StepId step = StepId::preflight;
  std::string node;  // empty for cluster-wide actions
  ActionKind kind;

  friend bool operator==(const Action&, const Action&) = default;
};

// A write changes the cluster (everything but RunConnectivityCheck and
// WaitFor). Each write bumps RunRecord::write_generation.
bool is_write(const Action& action) noexcept;

// The action's event name, e.g. "node.cordoned", "pod.evicted", "gate.waiting".
std::string_view event_name(const Action& action) noexcept;

// One line for logs and plan output: "roll node-1: cordon".
std::string describe(const Action& action);

}  // namespace cnimig::migrate
