#pragma once
// Internal to the effects model: SimulatedEffects::Tracker, the indexes that
// let an action cost what it touches (simulated_effects.hpp). Shared by the
// model and the plan runner, which keeps one across a run.

#include <algorithm>
#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cnimig/migrate/node_index.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

namespace cnimig::migrate {
namespace detail {

// The kube-scheduler's view, reduced to what the migration changes.
inline bool schedulable(const NodeState& node) {
  if (node.unschedulable || !node.ready)
    return false;
  return std::none_of(node.taints.begin(), node.taints.end(), [](const Taint& t) {
    return t.effect == "NoSchedule" || t.effect == "NoExecute";
  });
}

inline std::size_t name_hash(const std::string& ns, const std::string& name) {
  const std::hash<std::string> h;
  return h(ns) * 31 + h(name);
}

}  // namespace detail

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
    changed_.touch(node->name);
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
    auto [lo, hi] = where_.equal_range(detail::name_hash(ns, name));
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
    auto [lo, hi] = where_.equal_range(detail::name_hash(ns, name));
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

  // The nodes touched since the last call (the plan runner's NodeIndex
  // re-derives those); forgets them.
  TouchedNodes take_changed() { return std::exchange(changed_, TouchedNodes{}); }

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
    std::vector<std::size_t> names;  // name_hash of its pods when last indexed, sorted
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
    if (node != nullptr && entry.schedulable)
      schedulable_.erase({entry.workload_pods, node});
    const auto& pods = node != nullptr ? node->pods : snap_.unscheduled_pods;
    std::vector<std::size_t> names;
    names.reserve(pods.size());
    entry.workload_pods = 0;
    for (const auto& p : pods) {
      names.push_back(detail::name_hash(p.ns, p.name));
      if (!p.daemon_set_owned())
        ++entry.workload_pods;
    }
    std::sort(names.begin(), names.end());
    // Most of a node's pods stay between two reindexes: only the names that
    // went or came change where_ (both lists sorted).
    auto old = entry.names.begin();
    auto now = names.begin();
    while (old != entry.names.end() || now != names.end()) {
      if (now == names.end() || (old != entry.names.end() && *old < *now)) {
        unplace(*old++, node);
      } else if (old == entry.names.end() || *now < *old) {
        where_.emplace(*now++, node);
      } else {
        ++old;
        ++now;
      }
    }
    entry.names = std::move(names);
    if (node != nullptr) {
      entry.schedulable = detail::schedulable(*node);
      if (entry.schedulable)
        schedulable_.insert({entry.workload_pods, node});
    }
  }

  void unplace(std::size_t name, const NodeState* node) {
    auto [lo, hi] = where_.equal_range(name);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == node) {
        where_.erase(it);
        return;
      }
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
  TouchedNodes changed_;
  bool reconcile_all_ = true;
  std::unordered_multimap<std::size_t, NodeState*> where_;  // name_hash -> node holding it
  std::unordered_map<NodeState*, Indexed> indexed_;
  std::set<std::pair<std::size_t, NodeState*>, ByLoadThenName> schedulable_;
};

}  // namespace cnimig::migrate
