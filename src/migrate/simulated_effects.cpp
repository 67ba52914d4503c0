// The effects model behind plan mode and the core's tests. It is optimistic
// on purpose (every pod is Ready at once, every check passes unless told
// otherwise): it shows the order of writes a real run makes when nothing goes
// wrong, and lets tests drive the core to the end.

#include "cnimig/migrate/simulated_effects.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>

#include "cnimig/migrate/planner.hpp"

#include "simulated_tracker.hpp"
#include "step_context.hpp"

namespace cnimig::migrate {
namespace {

std::string bundle_of(const MigrationSettings& s, const ObjectRef& ref) {
  if (s.native() && (ref == s.cilium() || ref == s.cilium_operator()))
    return s.bundles.cilium_native;
  if (ref == s.cilium() || ref == s.cilium_migrated())
    return s.bundles.cilium;
  if (ref == s.multus_calico() || ref == s.multus_cilium())
    return s.bundles.multus;
  for (const auto& k : s.knet_stress()) {
    if (ref == k)
      return s.bundles.knet_stress;
  }
  if (ref == s.node_cleanup())
    return s.bundles.node_cleanup;
  return {};
}

// The address a pod created on `node` gets: from Cilium's pool where the
// node's Cilium agent writes the CNI config (cilium-native: the node is
// labelled cilium-default; the model has no CNI config files), else from the
// source CNI's. Unique enough for the checks: the core reads only the pool.
std::string pod_ip(const MigrationSettings& s, const NodeState& node, std::size_t n) {
  const bool cilium = s.native() && detail::has_label(s, node, s.labels.cilium_default);
  return std::string(cilium ? "10.217." : "10.244.") + std::to_string(n / 250 % 250) + "." +
         std::to_string(n % 250 + 2);
}

}  // namespace

SimulatedEffects::SimulatedEffects(MigrationSettings settings) : settings_(std::move(settings)) {}

// Deterministic, so that replaying a run's actions on its start snapshot
// re-creates the same pods (the interruption tests rely on it): the name is
// the owner's (and node's) plus the second, with a suffix when several pods
// of one owner are created within one second; the uid adds the write count.
void SimulatedEffects::name_new_pod(const PlanState& snap, Tracker& tracker, PodState& pod,
                                    const std::string& base) const {
  auto taken = [&](const std::string& name) { return tracker.taken(pod.ns, name); };
  pod.name = base + "-" + std::to_string(snap.now);
  for (int i = 2; taken(pod.name); ++i)
    pod.name = base + "-" + std::to_string(snap.now) + "-" + std::to_string(i);
  pod.uid = pod.ns + "/" + pod.name + "#" + std::to_string(snap.write_generation);
}

void SimulatedEffects::apply(PlanState& snap, const Action& action) const {
  Tracker tracker(snap);
  apply(snap, action, tracker);
}

void SimulatedEffects::apply(PlanState& snap, const Action& action, Tracker& tracker) const {
  snap.now += seconds_per_action;
  if (is_write(action))
    note_write(snap, action);
  if (const auto* e = std::get_if<EvictPod>(&action.kind)) {
    remove_pod(snap, tracker, e->ns, e->name);
  } else if (const auto* d = std::get_if<DeletePod>(&action.kind)) {
    remove_pod(snap, tracker, d->ns, d->name);
  } else if (const auto* c = std::get_if<RunConnectivityCheck>(&action.kind)) {
    // The model applies one action at a time: nothing is in flight. A
    // sampled check's random sample is the driver's; the model probes the
    // named nodes only.
    auto result = check_starting(snap);
    result.passed = check_outcome ? check_outcome(snap) : true;
    if (!c->nodes.empty()) {
      result.full = false;
      result.probed_nodes = c->nodes;
    }
    if (!result.passed)
      result.detail = "simulated failure";
    note_check(snap, std::move(result));
  } else if (!change_node(snap, tracker, action)) {
    change_workloads(snap, tracker, action);
  }
  reconcile_daemon_sets(snap, tracker);
  schedule_pending(snap, tracker);
}

// An evicted or deleted pod goes, and its controller re-creates it.
void SimulatedEffects::remove_pod(PlanState& snap, Tracker& tracker, const std::string& ns,
                                  const std::string& name) const {
  NodeState* node = tracker.node_holding(ns, name);
  if (node == nullptr)
    return;
  auto it = std::find_if(node->pods.begin(), node->pods.end(),
                         [&](const PodState& p) { return p.ns == ns && p.name == name; });
  if (it->mirror)
    return;  // the kubelet re-creates its mirror pod at once
  PodState pod = *it;
  tracker.touch(node);
  node->pods.erase(it);
  replace_pod(snap, tracker, node->name, std::move(pod));
}

// Labels, annotations, cordon and taints; false for the other actions.
bool SimulatedEffects::change_node(PlanState& snap, Tracker& tracker, const Action& action) const {
  // Every node the action changes is touched before the change.
  auto node_of = [&](const std::string& name) -> NodeState* {
    auto it = snap.nodes.find(name);
    if (it == snap.nodes.end())
      return nullptr;
    tracker.touch(&it->second);
    return &it->second;
  };
  const auto merge = [](std::map<std::string, std::string>& into,
                        const std::map<std::string, std::string>& set,
                        const std::vector<std::string>& remove) {
    for (const auto& [k, v] : set)
      into[k] = v;
    for (const auto& k : remove)
      into.erase(k);
  };
  const auto& k = action.kind;
  if (const auto* a = std::get_if<LabelNode>(&k)) {
    if (auto* n = node_of(a->node))
      merge(n->labels, a->set, a->remove);
  } else if (const auto* a = std::get_if<AnnotateNode>(&k)) {
    if (auto* n = node_of(a->node))
      merge(n->annotations, a->set, a->remove);
  } else if (const auto* a = std::get_if<SetCordon>(&k)) {
    if (auto* n = node_of(a->node))
      n->unschedulable = a->unschedulable;
  } else if (const auto* a = std::get_if<AddTaint>(&k)) {
    if (auto* n = node_of(a->node))
      add_taint(snap, tracker, *n, a->taint);
  } else if (const auto* a = std::get_if<RemoveTaint>(&k)) {
    if (auto* n = node_of(a->node)) {
      std::erase_if(n->taints, [&](const Taint& t) {
        return t.key == a->taint.key && t.effect == a->taint.effect;
      });
    }
  } else {
    return false;
  }
  return true;
}

void SimulatedEffects::add_taint(PlanState& snap, Tracker& tracker, NodeState& node,
                                 const Taint& taint) const {
  if (std::find(node.taints.begin(), node.taints.end(), taint) == node.taints.end())
    node.taints.push_back(taint);
  if (taint.effect != "NoExecute")
    return;
  // The taint manager evicts what does not tolerate it; in this model
  // DaemonSet pods tolerate everything, like the CNI agents and knet-stress do.
  std::vector<PodState> evicted;
  std::erase_if(node.pods, [&](const PodState& p) {
    if (p.daemon_set_owned() || p.mirror)
      return false;
    evicted.push_back(p);
    return true;
  });
  for (auto& p : evicted)
    replace_pod(snap, tracker, node.name, std::move(p));
}

// Bundles, DaemonSet selectors and deleted objects.
void SimulatedEffects::change_workloads(PlanState& snap, Tracker& tracker,
                                        const Action& action) const {
  const auto& s = settings_;
  const auto& k = action.kind;
  if (const auto* a = std::get_if<ApplyBundle>(&k)) {
    auto add = [&](const ObjectRef& ref, std::map<std::string, std::string> selector) {
      auto& w = snap.workloads[ref];
      w.exists = true;
      w.ready = true;
      w.node_selector = std::move(selector);
    };
    const auto& l = s.labels;
    if (a->id == s.bundles.cilium_native) {
      add(s.cilium(), {});
      add(s.cilium_operator(), {});
    } else if (a->id == s.bundles.cilium_node_config) {
      // Not a workload: the bundle id alone records it.
    } else if (a->id == s.bundles.cilium) {
      add(s.cilium(), {{l.calico_cilium, l.value}});
      add(s.cilium_migrated(), {{l.cilium, l.value}});
    } else if (a->id == s.bundles.multus) {
      add(s.multus_calico(), {{l.cni_priority_calico, l.value}});
      add(s.multus_cilium(), {{l.cni_priority_cilium, l.value}});
    } else if (a->id == s.bundles.knet_stress) {
      for (const auto& ref : s.knet_stress())
        add(ref, {});
    } else if (a->id == s.bundles.node_cleanup) {
      add(s.node_cleanup(), {});
    }
    snap.applied_bundles.insert(a->id);
  } else if (const auto* a = std::get_if<DeleteBundle>(&k)) {
    for (auto& [ref, w] : snap.workloads) {
      if (bundle_of(s, ref) == a->id)
        w = WorkloadState{};  // known, and absent
    }
    snap.applied_bundles.erase(a->id);
  } else if (const auto* a = std::get_if<PatchDaemonSetNodeSelector>(&k)) {
    auto it = snap.workloads.find(ObjectRef{kDaemonSet, a->ns, a->name});
    if (it == snap.workloads.end())
      return;
    for (const auto& [key, v] : a->set)
      it->second.node_selector[key] = v;
    for (const auto& key : a->remove)
      it->second.node_selector.erase(key);
  } else if (const auto* a = std::get_if<DeleteObject>(&k)) {
    delete_object(snap, tracker, a->object);
  } else {
    return;  // WaitFor
  }
  tracker.workloads_changed();
}

void SimulatedEffects::delete_object(PlanState& snap, Tracker& tracker,
                                     const ObjectRef& object) const {
  snap.workloads[object] = WorkloadState{};  // known, and absent
  if (auto bundle = bundle_of(settings_, object); !bundle.empty())
    snap.applied_bundles.erase(bundle);
  if (object.kind == kDaemonSet)
    return;
  // Its ReplicaSets / the StatefulSet go, and their pods with them.
  auto owned = [&](const PodState& p) {
    return p.ns == object.ns && !p.daemon_set_owned() && p.owner_name.starts_with(object.name);
  };
  for (auto& [name, node] : snap.nodes) {
    if (std::erase_if(node.pods, owned) > 0)
      tracker.touch(&node);
  }
  std::erase_if(snap.unscheduled_pods, owned);
  tracker.touch_unscheduled();
}

void SimulatedEffects::replace_pod(PlanState& snap, Tracker& tracker, const std::string& node,
                                   PodState pod) const {
  if (pod.daemon_set_owned()) {
    // A DaemonSet the snapshot does not describe (not watched, e.g. an
    // application's) re-creates its pod on the same node; the ones it
    // describes are re-created by reconcile_daemon_sets where they select.
    if (snap.workload(ObjectRef{kDaemonSet, pod.ns, pod.owner_name}) != nullptr)
      return;
    auto it = snap.nodes.find(node);
    if (it == snap.nodes.end())
      return;
    name_new_pod(snap, tracker, pod, pod.owner_name + "-" + node);
    pod.created = snap.now;
    pod.ready = true;
    pod.terminating = false;
    if (!pod.host_network)
      pod.ip = pod_ip(settings_, it->second, snap.write_generation + it->second.pods.size());
    tracker.touch(&it->second);
    it->second.pods.push_back(std::move(pod));
    return;
  }
  if (pod.owner_kind != "ReplicaSet" && pod.owner_kind != "StatefulSet")
    return;  // bare: gone
  if (pod.owner_kind == "ReplicaSet") {
    name_new_pod(snap, tracker, pod, pod.owner_name);
  } else {
    // A StatefulSet's pod keeps its name: a new incarnation, a new uid.
    pod.uid = pod.ns + "/" + pod.name + "@" + std::to_string(snap.now) + "#" +
              std::to_string(snap.write_generation);
  }
  pod.created = snap.now;
  pod.ready = true;
  pod.terminating = false;
  tracker.touch_unscheduled();
  snap.unscheduled_pods.push_back(std::move(pod));
}

void SimulatedEffects::schedule_pending(PlanState& snap, Tracker& tracker) const {
  std::vector<PodState> still;
  auto pending = std::move(snap.unscheduled_pods);
  snap.unscheduled_pods.clear();
  tracker.touch_unscheduled();
  for (auto& pod : pending) {
    // The kube-scheduler's choice, reduced: the emptiest schedulable node.
    NodeState* best = tracker.emptiest_schedulable();
    if (best == nullptr) {
      still.push_back(std::move(pod));
    } else {
      pod.created = snap.now;
      if (!pod.host_network)
        pod.ip = pod_ip(settings_, *best, snap.write_generation + best->pods.size());
      tracker.touch(best);
      best->pods.push_back(std::move(pod));
    }
  }
  snap.unscheduled_pods = std::move(still);
  for (auto& [ref, w] : snap.workloads) {
    if (ref.kind == kDaemonSet || !w.exists)
      continue;
    w.ready = std::none_of(
        snap.unscheduled_pods.begin(), snap.unscheduled_pods.end(),
        [&](const PodState& p) { return p.ns == ref.ns && p.owner_name.starts_with(ref.name); });
  }
}

// Only the nodes touched since the last call (every node after a DaemonSet
// changed): elsewhere nothing this depends on has changed, so there it would
// find nothing to do.
void SimulatedEffects::reconcile_daemon_sets(PlanState& snap, Tracker& tracker) const {
  const auto& s = settings_;
  const auto nodes = tracker.take_unreconciled();
  if (nodes.empty())
    return;
  auto host_network = [&](const ObjectRef& ref) {
    if (ref == s.source_cni || ref == s.cilium() || ref == s.cilium_migrated() ||
        ref == s.multus_calico() || ref == s.multus_cilium()) {
      return true;
    }
    for (const auto& [name, node] : snap.nodes) {
      for (const auto& p : node.pods) {
        if (p.daemon_set_owned() && p.ns == ref.ns && p.owner_name == ref.name)
          return p.host_network;
      }
    }
    return false;
  };
  for (auto* node : nodes) {
    // Pods of DaemonSets that are gone or no longer select the node.
    const auto erased = std::erase_if(node->pods, [&](const PodState& p) {
      if (!p.daemon_set_owned())
        return false;
      const auto* w = snap.workload(ObjectRef{kDaemonSet, p.ns, p.owner_name});
      if (w == nullptr)
        return false;  // not described: left as it is
      return !w->exists || !w->selects(*node);
    });
    if (erased > 0)
      tracker.touch(node);
  }
  // The DaemonSets that select each node and have no pod on it, found with
  // one pass over its pods.
  std::vector<std::vector<const ObjectRef*>> lacking(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto* node = nodes[i];
    for (const auto& [ref, w] : snap.workloads) {
      if (w.exists && ref.kind == kDaemonSet && w.selects(*node))
        lacking[i].push_back(&ref);
    }
    for (const auto& p : node->pods) {
      if (lacking[i].empty())
        break;
      if (p.daemon_set_owned()) {
        std::erase_if(lacking[i], [&](const ObjectRef* ref) {
          return ref->ns == p.ns && ref->name == p.owner_name;
        });
      }
    }
    // Room for exactly the pods it gets: growing one at a time doubles a
    // node's vector (32 pods -> 64 places), 30 MB at 5,000 nodes.
    if (node->pods.size() + lacking[i].size() > node->pods.capacity())
      node->pods.reserve(node->pods.size() + lacking[i].size());
  }
  for (const auto& [ref, w] : snap.workloads) {
    if (ref.kind != kDaemonSet || !w.exists)
      continue;
    // Looked up once per DaemonSet, and only if a pod is missing somewhere.
    std::optional<bool> host;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (std::find(lacking[i].begin(), lacking[i].end(), &ref) == lacking[i].end())
        continue;
      auto* node = nodes[i];
      if (!host)
        host = host_network(ref);
      const auto& node_name = node->name;
      PodState pod;
      pod.ns = ref.ns;
      name_new_pod(snap, tracker, pod, ref.name + "-" + node_name);
      pod.owner_kind = kDaemonSet;
      pod.owner_name = ref.name;
      pod.host_network = *host;
      pod.created = snap.now;
      if (!pod.host_network)
        pod.ip = pod_ip(s, *node, snap.write_generation + node->pods.size());
      tracker.touch(node);
      node->pods.push_back(std::move(pod));
    }
  }
}

}  // namespace cnimig::migrate
