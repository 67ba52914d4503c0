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

std::size_t name_hash(const std::string& ns, const std::string& name) {
  const std::hash<std::string> h;
  return h(ns) * 31 + h(name);
}

}  // namespace

// Nodes are told apart by address: the model never adds or removes one, so
// the map's nodes stay put for the whole run; nullptr stands for the
// unscheduled pods. Whatever the model changes on a node it touch()es first;
// the indexes catch up lazily, node by node, before they are read.
class SimulatedEffects::Tracker {
 public:
  explicit Tracker(ClusterSnapshot& snap) : snap_(snap) {
    for (auto& [name, node] : snap.nodes)
      stale_.insert(&node);
    unscheduled_stale_ = true;
  }

  void touch(NodeState* node) {
    if (node == nullptr) {
      unscheduled_stale_ = true;
      return;
    }
    stale_.insert(node);
    unreconciled_.insert(node->name);
  }
  void touch(const std::string& node) {
    auto it = snap_.nodes.find(node);
    if (it != snap_.nodes.end())
      touch(&it->second);
  }
  void touch_unscheduled() { unscheduled_stale_ = true; }
  // A DaemonSet appeared, went, or changed its selector: every node is reconciled.
  void workloads_changed() { reconcile_all_ = true; }

  bool taken(const std::string& ns, const std::string& name) {
    refresh();
    auto [lo, hi] = where_.equal_range(name_hash(ns, name));
    for (auto it = lo; it != hi; ++it) {
      if (holds(it->second, ns, name) != nullptr)
        return true;
    }
    return false;
  }

  // The first node, in name order, holding a pod ns/name (remove_pod's
  // search); nullptr when no node does.
  NodeState* node_holding(const std::string& ns, const std::string& name) {
    refresh();
    NodeState* first = nullptr;
    auto [lo, hi] = where_.equal_range(name_hash(ns, name));
    for (auto it = lo; it != hi; ++it) {
      if (it->second != nullptr && holds(it->second, ns, name) != nullptr &&
          (first == nullptr || it->second->name < first->name)) {
        first = it->second;
      }
    }
    return first;
  }

  // The schedulable node with the fewest workload pods, the first by name
  // among equals; nullptr when none is schedulable.
  NodeState* emptiest_schedulable() {
    refresh();
    return schedulable_.empty() ? nullptr : schedulable_.begin()->second;
  }

  // The nodes whose DaemonSet pods may not match the workloads, in name
  // order (all of them after a workload change); forgets them.
  std::vector<NodeState*> take_unreconciled() {
    std::vector<NodeState*> out;
    if (reconcile_all_) {
      for (auto& [name, node] : snap_.nodes)
        out.push_back(&node);
    } else {
      for (const auto& name : unreconciled_) {
        if (auto it = snap_.nodes.find(name); it != snap_.nodes.end())
          out.push_back(&it->second);
      }
    }
    reconcile_all_ = false;
    unreconciled_.clear();
    return out;
  }

 private:
  struct Indexed {
    std::vector<std::size_t> names;  // name_hash of its pods when last indexed
    std::size_t workload_pods = 0;
    bool schedulable = false;
  };
  struct ByLoadThenName {
    bool operator()(const std::pair<std::size_t, NodeState*>& a,
                    const std::pair<std::size_t, NodeState*>& b) const {
      if (a.first != b.first)
        return a.first < b.first;
      return a.second->name < b.second->name;
    }
  };

  const PodState* holds(const NodeState* node, const std::string& ns,
                        const std::string& name) const {
    const auto& pods = node != nullptr ? node->pods : snap_.unscheduled_pods;
    for (const auto& p : pods) {
      if (p.name == name && p.ns == ns)
        return &p;
    }
    return nullptr;
  }

  void reindex(NodeState* node) {
    auto& entry = indexed_[node];
    for (auto h : entry.names) {
      auto [lo, hi] = where_.equal_range(h);
      for (auto it = lo; it != hi; ++it) {
        if (it->second == node) {
          where_.erase(it);
          break;
        }
      }
    }
    if (node != nullptr && entry.schedulable)
      schedulable_.erase({entry.workload_pods, node});
    const auto& pods = node != nullptr ? node->pods : snap_.unscheduled_pods;
    entry.names.clear();
    entry.workload_pods = 0;
    for (const auto& p : pods) {
      const auto h = name_hash(p.ns, p.name);
      entry.names.push_back(h);
      where_.emplace(h, node);
      if (!p.daemon_set_owned())
        ++entry.workload_pods;
    }
    if (node != nullptr) {
      entry.schedulable = schedulable(*node);
      if (entry.schedulable)
        schedulable_.insert({entry.workload_pods, node});
    }
  }

  void refresh() {
    for (auto* node : stale_)
      reindex(node);
    stale_.clear();
    if (unscheduled_stale_) {
      reindex(nullptr);
      unscheduled_stale_ = false;
    }
  }

  ClusterSnapshot& snap_;
  std::set<NodeState*> stale_;
  bool unscheduled_stale_ = false;
  std::set<std::string> unreconciled_;
  bool reconcile_all_ = true;
  std::unordered_multimap<std::size_t, NodeState*> where_;  // name_hash -> node holding it
  std::unordered_map<NodeState*, Indexed> indexed_;
  std::set<std::pair<std::size_t, NodeState*>, ByLoadThenName> schedulable_;
};

SimulatedEffects::SimulatedEffects(MigrationSettings settings) : settings_(std::move(settings)) {}

// Deterministic, so that replaying a run's actions on its start snapshot
// re-creates the same pods (the interruption tests rely on it): the name is
// the owner's (and node's) plus the second, with a suffix when several pods
// of one owner are created within one second; the uid adds the write count.
void SimulatedEffects::name_new_pod(const ClusterSnapshot& snap, Tracker& tracker, PodState& pod,
                                    const std::string& base) const {
  auto taken = [&](const std::string& name) { return tracker.taken(pod.ns, name); };
  pod.name = base + "-" + std::to_string(snap.now);
  for (int i = 2; taken(pod.name); ++i)
    pod.name = base + "-" + std::to_string(snap.now) + "-" + std::to_string(i);
  pod.uid = pod.ns + "/" + pod.name + "#" + std::to_string(snap.write_generation);
}

void SimulatedEffects::apply(ClusterSnapshot& snap, const Action& action) const {
  Tracker tracker(snap);
  apply(snap, action, tracker);
}

void SimulatedEffects::apply(ClusterSnapshot& snap, const Action& action, Tracker& tracker) const {
  const auto& s = settings_;
  snap.now += seconds_per_action;
  if (is_write(action))
    snap.write_generation += 1;
  // Every node the action changes is touched before the change.
  auto node_of = [&](const std::string& name) -> NodeState* {
    auto it = snap.nodes.find(name);
    if (it == snap.nodes.end())
      return nullptr;
    tracker.touch(&it->second);
    return &it->second;
  };
  auto remove_pod = [&](const std::string& ns, const std::string& name) {
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
                       replace_pod(snap, tracker, a.node, std::move(p));
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
                   tracker.workloads_changed();
                 },
                 [&](const DeleteBundle& a) {
                   for (auto& [ref, w] : snap.workloads) {
                     if (bundle_of(s, ref) == a.id)
                       w = WorkloadState{};  // known, and absent
                   }
                   snap.applied_bundles.erase(a.id);
                   tracker.workloads_changed();
                 },
                 [&](const PatchDaemonSetNodeSelector& a) {
                   auto it = snap.workloads.find(ObjectRef{kDaemonSet, a.ns, a.name});
                   if (it == snap.workloads.end())
                     return;
                   for (const auto& [k, v] : a.set)
                     it->second.node_selector[k] = v;
                   for (const auto& k : a.remove)
                     it->second.node_selector.erase(k);
                   tracker.workloads_changed();
                 },
                 // A ConfigMap and a Deployment template the snapshot does not hold.
                 [&](const RestoreCiliumDefaults&) {},
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
                     for (auto& [name, node] : snap.nodes) {
                       if (std::erase_if(node.pods, owned) > 0)
                         tracker.touch(&node);
                     }
                     std::erase_if(snap.unscheduled_pods, owned);
                     tracker.touch_unscheduled();
                   }
                   tracker.workloads_changed();
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
  reconcile_daemon_sets(snap, tracker);
  schedule_pending(snap, tracker);
}

void SimulatedEffects::replace_pod(ClusterSnapshot& snap, Tracker& tracker, const std::string& node,
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

void SimulatedEffects::schedule_pending(ClusterSnapshot& snap, Tracker& tracker) const {
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
void SimulatedEffects::reconcile_daemon_sets(ClusterSnapshot& snap, Tracker& tracker) const {
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
      return !w->exists || !selects(w->node_selector, *node);
    });
    if (erased > 0)
      tracker.touch(node);
  }
  auto missing = [](const ObjectRef& ref, const WorkloadState& w, const NodeState& node) {
    if (!w.exists || ref.kind != kDaemonSet || !selects(w.node_selector, node))
      return false;
    return std::none_of(node.pods.begin(), node.pods.end(), [&](const PodState& p) {
      return p.daemon_set_owned() && p.ns == ref.ns && p.owner_name == ref.name;
    });
  };
  for (auto* node : nodes) {
    // Room for exactly the pods it gets: growing one at a time doubles a
    // node's vector (32 pods -> 64 places), 30 MB at 5,000 nodes.
    std::size_t adds = 0;
    for (const auto& [ref, w] : snap.workloads)
      adds += missing(ref, w, *node) ? 1 : 0;
    if (node->pods.size() + adds > node->pods.capacity())
      node->pods.reserve(node->pods.size() + adds);
  }
  for (const auto& [ref, w] : snap.workloads) {
    if (ref.kind != kDaemonSet || !w.exists)
      continue;
    // Looked up once per DaemonSet, and only if a pod is missing somewhere.
    std::optional<bool> host;
    for (auto* node : nodes) {
      if (!missing(ref, w, *node))
        continue;
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
      tracker.touch(node);
      node->pods.push_back(std::move(pod));
    }
  }
}

PlanRunner::PlanRunner(ClusterSnapshot snapshot, const MigrationSettings& settings,
                       const Budget& budget, const Selection& selection,
                       const SimulatedEffects& effects, std::size_t max_rounds,
                       const PlanObserver& observer)
    : snapshot_(std::move(snapshot)),
      settings_(settings),
      budget_(budget),
      selection_(selection),
      effects_(effects),
      max_rounds_(max_rounds),
      observer_(observer),
      tracker_(std::make_unique<SimulatedEffects::Tracker>(snapshot_)) {}

PlanRunner::~PlanRunner() = default;

bool PlanRunner::advance(std::size_t rounds) {
  for (std::size_t i = 0; i < rounds && !ended_; ++i) {
    if (run_.rounds >= max_rounds_) {
      ended_ = true;
      break;
    }
    ++run_.rounds;
    Decision d = next_actions(snapshot_, settings_, budget_, selection_);
    if (d.halted() || d.finished()) {
      --run_.rounds;  // counted as run_plan always has: the deciding round is not one
      run_.outcome = d.actions.back();
      ended_ = true;
      break;
    }
    if (d.actions.empty() && !d.waits.empty() &&
        std::all_of(d.waits.begin(), d.waits.end(),
                    [](const Action& w) { return std::get<WaitFor>(w.kind).gate == "cut-off"; })) {
      // Only time passing ends this wait: let the model's clock tick.
      snapshot_.now += 1;
      continue;
    }
    if (d.actions.empty()) {
      // Effects are immediate here, so a wait would never end.
      std::string what;
      for (const auto& w : d.waits)
        what += (what.empty() ? "" : "; ") + describe(w);
      --run_.rounds;
      run_.outcome = Action{d.current_step.value_or(StepId::preflight), "",
                            Halt{"plan cannot proceed: " + what}};
      ended_ = true;
      break;
    }
    for (const auto& a : d.actions) {
      effects_.apply(snapshot_, a, *tracker_);
      run_.actions.push_back(a);
      if (observer_)
        observer_(snapshot_, a);
    }
  }
  return ended_;
}

PlanRun PlanRunner::finish() {
  tracker_.reset();  // it points into the snapshot
  run_.final_snapshot = std::move(snapshot_);
  return std::move(run_);
}

PlanRun run_plan(ClusterSnapshot snapshot, const MigrationSettings& settings, const Budget& budget,
                 const Selection& selection, const SimulatedEffects& effects,
                 std::size_t max_rounds, const PlanObserver& observer) {
  PlanRunner runner(std::move(snapshot), settings, budget, selection, effects, max_rounds,
                    observer);
  while (!runner.advance(max_rounds)) {
  }
  return runner.finish();
}

}  // namespace cnimig::migrate
