// The effects model behind plan mode and the core's tests. It is optimistic
// on purpose (every pod is Ready at once, every check passes unless told
// otherwise): it shows the order of writes a real run makes when nothing goes
// wrong, and lets tests drive the core to the end.

#include "cnimig/migrate/simulated_effects.hpp"

#include <algorithm>

#include "cnimig/migrate/planner.hpp"

namespace cnimig::migrate {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

bool selects(const std::map<std::string, std::string>& selector, const NodeState& node) {
  for (const auto& [k, v] : selector) {
    auto it = node.labels.find(k);
    if (it == node.labels.end() || it->second != v)
      return false;
  }
  return true;
}

// The kube-scheduler's view, reduced to what the migration changes.
bool schedulable(const NodeState& node) {
  if (node.unschedulable || !node.ready)
    return false;
  return std::none_of(node.taints.begin(), node.taints.end(), [](const Taint& t) {
    return t.effect == "NoSchedule" || t.effect == "NoExecute";
  });
}

std::size_t workload_pods(const NodeState& node) {
  return static_cast<std::size_t>(std::count_if(
      node.pods.begin(), node.pods.end(), [](const PodState& p) { return !p.daemon_set_owned(); }));
}

std::string bundle_of(const MigrationSettings& s, const ObjectRef& ref) {
  if (ref == s.cilium() || ref == s.cilium_migrated())
    return s.bundles.cilium;
  if (ref == s.multus_calico() || ref == s.multus_cilium())
    return s.bundles.multus;
  for (const auto& k : s.knet_stress()) {
    if (ref == k)
      return s.bundles.knet_stress;
  }
  return {};
}

}  // namespace

SimulatedEffects::SimulatedEffects(MigrationSettings settings) : settings_(std::move(settings)) {}

// Deterministic, so that replaying a run's actions on its start snapshot
// re-creates the same pods (the interruption tests rely on it): the name is
// the owner's (and node's) plus the second, with a suffix when several pods
// of one owner are created within one second; the uid adds the write count.
void SimulatedEffects::name_new_pod(const ClusterSnapshot& snap, PodState& pod,
                                    const std::string& base) const {
  auto taken = [&](const std::string& name) {
    for (const auto& [n, node] : snap.nodes) {
      for (const auto& p : node.pods) {
        if (p.ns == pod.ns && p.name == name)
          return true;
      }
    }
    for (const auto& p : snap.unscheduled_pods) {
      if (p.ns == pod.ns && p.name == name)
        return true;
    }
    return false;
  };
  pod.name = base + "-" + std::to_string(snap.now);
  for (int i = 2; taken(pod.name); ++i)
    pod.name = base + "-" + std::to_string(snap.now) + "-" + std::to_string(i);
  pod.uid = pod.ns + "/" + pod.name + "#" + std::to_string(snap.write_generation);
}

void SimulatedEffects::apply(ClusterSnapshot& snap, const Action& action) const {
  const auto& s = settings_;
  snap.now += seconds_per_action;
  if (is_write(action))
    snap.write_generation += 1;
  auto node_of = [&](const std::string& name) -> NodeState* {
    auto it = snap.nodes.find(name);
    return it == snap.nodes.end() ? nullptr : &it->second;
  };
  auto remove_pod = [&](const std::string& ns, const std::string& name) {
    for (auto& [node_name, node] : snap.nodes) {
      auto it = std::find_if(node.pods.begin(), node.pods.end(),
                             [&](const PodState& p) { return p.ns == ns && p.name == name; });
      if (it == node.pods.end())
        continue;
      if (it->mirror)
        return;  // the kubelet re-creates its mirror pod at once
      PodState pod = *it;
      node.pods.erase(it);
      replace_pod(snap, node_name, std::move(pod));
      return;
    }
  };
  std::visit(Overloaded{
                 [&](const LabelNode& a) {
                   if (auto* n = node_of(a.node)) {
                     for (const auto& [k, v] : a.set)
                       n->labels[k] = v;
                     for (const auto& k : a.remove)
                       n->labels.erase(k);
                   }
                 },
                 [&](const AnnotateNode& a) {
                   if (auto* n = node_of(a.node)) {
                     for (const auto& [k, v] : a.set)
                       n->annotations[k] = v;
                     for (const auto& k : a.remove)
                       n->annotations.erase(k);
                   }
                 },
                 [&](const SetCordon& a) {
                   if (auto* n = node_of(a.node))
                     n->unschedulable = a.unschedulable;
                 },
                 [&](const AddTaint& a) {
                   auto* n = node_of(a.node);
                   if (n == nullptr)
                     return;
                   if (std::find(n->taints.begin(), n->taints.end(), a.taint) == n->taints.end()) {
                     n->taints.push_back(a.taint);
                   }
                   if (a.taint.effect == "NoExecute") {
                     // The taint manager evicts what does not tolerate it; in this
                     // model DaemonSet pods tolerate everything, like the CNI agents
                     // and knet-stress do.
                     std::vector<PodState> evicted;
                     std::erase_if(n->pods, [&](const PodState& p) {
                       if (p.daemon_set_owned() || p.mirror)
                         return false;
                       evicted.push_back(p);
                       return true;
                     });
                     for (auto& p : evicted)
                       replace_pod(snap, a.node, std::move(p));
                   }
                 },
                 [&](const RemoveTaint& a) {
                   if (auto* n = node_of(a.node)) {
                     std::erase_if(n->taints, [&](const Taint& t) {
                       return t.key == a.taint.key && t.effect == a.taint.effect;
                     });
                   }
                 },
                 [&](const EvictPod& a) { remove_pod(a.ns, a.name); },
                 [&](const DeletePod& a) { remove_pod(a.ns, a.name); },
                 [&](const ApplyBundle& a) {
                   auto add = [&](const ObjectRef& ref,
                                  std::map<std::string, std::string> selector) {
                     auto& w = snap.workloads[ref];
                     w.exists = true;
                     w.ready = true;
                     w.node_selector = std::move(selector);
                   };
                   const auto& l = s.labels;
                   if (a.id == s.bundles.cilium) {
                     add(s.cilium(), {{l.calico_cilium, l.value}});
                     add(s.cilium_migrated(), {{l.cilium, l.value}});
                   } else if (a.id == s.bundles.multus) {
                     add(s.multus_calico(), {{l.cni_priority_calico, l.value}});
                     add(s.multus_cilium(), {{l.cni_priority_cilium, l.value}});
                   } else if (a.id == s.bundles.knet_stress) {
                     for (const auto& ref : s.knet_stress())
                       add(ref, {});
                   }
                   snap.applied_bundles.insert(a.id);
                 },
                 [&](const DeleteBundle& a) {
                   for (auto& [ref, w] : snap.workloads) {
                     if (bundle_of(s, ref) == a.id)
                       w = WorkloadState{};  // known, and absent
                   }
                   snap.applied_bundles.erase(a.id);
                 },
                 [&](const PatchDaemonSetNodeSelector& a) {
                   auto it = snap.workloads.find(ObjectRef{kDaemonSet, a.ns, a.name});
                   if (it == snap.workloads.end())
                     return;
                   for (const auto& [k, v] : a.set)
                     it->second.node_selector[k] = v;
                   for (const auto& k : a.remove)
                     it->second.node_selector.erase(k);
                 },
                 [&](const DeleteObject& a) {
                   snap.workloads[a.object] = WorkloadState{};  // known, and absent
                   if (auto bundle = bundle_of(s, a.object); !bundle.empty()) {
                     snap.applied_bundles.erase(bundle);
                   }
                   if (a.object.kind != kDaemonSet) {
                     // Its ReplicaSets / the StatefulSet go, and their pods with them.
                     auto owned = [&](const PodState& p) {
                       return p.ns == a.object.ns && !p.daemon_set_owned() &&
                              p.owner_name.starts_with(a.object.name);
                     };
                     for (auto& [name, node] : snap.nodes)
                       std::erase_if(node.pods, owned);
                     std::erase_if(snap.unscheduled_pods, owned);
                   }
                 },
                 [&](const RunConnectivityCheck&) {
                   CheckResult result;
                   result.passed = check_outcome ? check_outcome(snap) : true;
                   result.generation = snap.write_generation;
                   if (!result.passed)
                     result.detail = "simulated failure";
                   snap.last_check = result;
                 },
                 [](const WaitFor&) {},
                 [](const Halt&) {},
                 [](const Done&) {},
             },
             action.kind);
  reconcile_daemon_sets(snap);
  schedule_pending(snap);
}

void SimulatedEffects::replace_pod(ClusterSnapshot& snap, const std::string& node,
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
    name_new_pod(snap, pod, pod.owner_name + "-" + node);
    pod.created = snap.now;
    pod.ready = true;
    pod.terminating = false;
    it->second.pods.push_back(std::move(pod));
    return;
  }
  if (pod.owner_kind != "ReplicaSet" && pod.owner_kind != "StatefulSet")
    return;  // bare: gone
  if (pod.owner_kind == "ReplicaSet") {
    name_new_pod(snap, pod, pod.owner_name);
  } else {
    // A StatefulSet's pod keeps its name: a new incarnation, a new uid.
    pod.uid = pod.ns + "/" + pod.name + "@" + std::to_string(snap.now) + "#" +
              std::to_string(snap.write_generation);
  }
  pod.created = snap.now;
  pod.ready = true;
  pod.terminating = false;
  snap.unscheduled_pods.push_back(std::move(pod));
}

void SimulatedEffects::schedule_pending(ClusterSnapshot& snap) const {
  std::vector<PodState> still;
  for (auto& pod : snap.unscheduled_pods) {
    NodeState* best = nullptr;
    for (auto& [name, node] : snap.nodes) {
      if (!schedulable(node))
        continue;
      if (best == nullptr || workload_pods(node) < workload_pods(*best))
        best = &node;
    }
    if (best == nullptr) {
      still.push_back(std::move(pod));
    } else {
      pod.created = snap.now;
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

void SimulatedEffects::reconcile_daemon_sets(ClusterSnapshot& snap) const {
  const auto& s = settings_;
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
  for (auto& [node_name, node] : snap.nodes) {
    // Pods of DaemonSets that are gone or no longer select the node.
    std::erase_if(node.pods, [&](const PodState& p) {
      if (!p.daemon_set_owned())
        return false;
      const auto* w = snap.workload(ObjectRef{kDaemonSet, p.ns, p.owner_name});
      if (w == nullptr)
        return false;  // not described: left as it is
      return !w->exists || !selects(w->node_selector, node);
    });
  }
  for (const auto& [ref, w] : snap.workloads) {
    if (ref.kind != kDaemonSet || !w.exists)
      continue;
    const bool host = host_network(ref);
    for (auto& [node_name, node] : snap.nodes) {
      if (!selects(w.node_selector, node))
        continue;
      bool present = std::any_of(node.pods.begin(), node.pods.end(), [&](const PodState& p) {
        return p.daemon_set_owned() && p.ns == ref.ns && p.owner_name == ref.name;
      });
      if (present)
        continue;
      PodState pod;
      pod.ns = ref.ns;
      name_new_pod(snap, pod, ref.name + "-" + node_name);
      pod.owner_kind = kDaemonSet;
      pod.owner_name = ref.name;
      pod.host_network = host;
      pod.created = snap.now;
      node.pods.push_back(std::move(pod));
    }
  }
}

PlanRun run_plan(ClusterSnapshot snapshot, const MigrationSettings& settings, const Budget& budget,
                 const Selection& selection, const SimulatedEffects& effects,
                 std::size_t max_rounds,
                 const std::function<void(const ClusterSnapshot&, const Action&)>& observer) {
  PlanRun run;
  for (; run.rounds < max_rounds; ++run.rounds) {
    Decision d = next_actions(snapshot, settings, budget, selection);
    if (d.halted() || d.finished()) {
      run.outcome = d.actions.back();
      break;
    }
    if (d.actions.empty() && !d.waits.empty() &&
        std::all_of(d.waits.begin(), d.waits.end(),
                    [](const Action& w) { return std::get<WaitFor>(w.kind).gate == "cut-off"; })) {
      // Only time passing ends this wait: let the model's clock tick.
      snapshot.now += 1;
      continue;
    }
    if (d.actions.empty()) {
      // Effects are immediate here, so a wait would never end.
      std::string what;
      for (const auto& w : d.waits)
        what += (what.empty() ? "" : "; ") + describe(w);
      run.outcome = Action{d.current_step.value_or(StepId::preflight), "",
                           Halt{"plan cannot proceed: " + what}};
      break;
    }
    for (const auto& a : d.actions) {
      effects.apply(snapshot, a);
      run.actions.push_back(a);
      if (observer)
        observer(snapshot, a);
    }
  }
  run.final_snapshot = std::move(snapshot);
  return run;
}

}  // namespace cnimig::migrate
