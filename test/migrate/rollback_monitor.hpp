#pragma once
// Test support for the rollback: each pod's interfaces as the kubelet gives
// them (the lexically first CNI config on its node when it was created, as
// the simulator's network model), and after every action whether every pair
// of pods in service still reaches each other, plus the budget.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster_fixture.hpp"

namespace cnimig::migrate::test {

class ReachabilityMonitor : public MonitorBase {
 public:
  ReachabilityMonitor(const MigrationSettings& s, Budget budget,
                      std::set<std::string> admin_cordoned = {})
      : MonitorBase(s, budget, std::move(admin_cordoned)) {}

  void observe(const ClusterSnapshot& snap, const Action& action) {
    ++actions_;
    for (const auto& [name, n] : snap.nodes) {
      for (const auto& p : n.pods) {
        if (!p.host_network)
          nets_.try_emplace(key(p), p.created <= 100 ? Net{true, false, false} : sandbox(n));
      }
    }
    std::vector<std::pair<const NodeState*, const PodState*>> pods;
    for (const auto& [name, n] : snap.nodes) {
      if (n.unschedulable)
        continue;  // in maintenance
      for (const auto& p : n.pods) {
        if (!p.host_network && p.ready)
          pods.emplace_back(&n, &p);
      }
    }
    for (const auto& a : pods) {
      for (const auto& b : pods) {
        if (!reaches(a, b))
          fail(a.second->name + " on " + a.first->name + " cannot reach " + b.second->name +
               " on " + b.first->name + " (" + describe(action) + ")");
      }
    }
    check_budget(snap, {annotation_names::kRollbackMigrate, annotation_names::kRollbackPriority,
                        annotation_names::kRollbackRoll});
  }

  // Every pod in place takes its only interface from the source CNI.
  bool all_pods_on_source_alone(const ClusterSnapshot& snap) {
    for (const auto& [name, n] : snap.nodes) {
      for (const auto& p : n.pods) {
        if (p.host_network)
          continue;
        // A pod not seen yet (no action observed) has what its node gives now.
        const auto& net =
            nets_.try_emplace(key(p), p.created <= 100 ? Net{true, false, false} : sandbox(n))
                .first->second;
        if (!net.source || net.cilium)
          return false;
      }
    }
    return true;
  }

 private:
  static std::string key(const PodState& p) {
    return p.ns + "/" + p.name + "@" + std::to_string(p.created) + "#" + p.uid;
  }
  bool runs(const NodeState& n, const std::string& ds) const {
    for (const auto& p : n.pods) {
      if (p.daemon_set_owned() && p.owner_name == ds)
        return true;
    }
    return false;
  }
  // 00-cilium.conf < 00-multus.conflist < 10-<source> < 99-cilium.conf.
  Net sandbox(const NodeState& n) const {
    if (runs(n, s_.cilium_migrated_daemon_set))
      return {false, true, true};
    if (runs(n, s_.multus_cilium_daemon_set))
      return {true, true, true};
    if (runs(n, s_.multus_calico_daemon_set))
      return {true, true, false};
    if (runs(n, s_.source_cni.name))
      return {true, false, false};
    if (runs(n, s_.cilium_daemon_set))
      return {false, true, true};
    return {};
  }
  bool up(const NodeState& n, bool cilium) const {
    return cilium ? runs(n, s_.cilium_daemon_set) || runs(n, s_.cilium_migrated_daemon_set)
                  : runs(n, s_.source_cni.name);
  }
  bool reaches(const std::pair<const NodeState*, const PodState*>& a,
               const std::pair<const NodeState*, const PodState*>& b) {
    const auto& from = nets_[key(*a.second)];
    const auto& to = nets_[key(*b.second)];
    const bool cilium = to.cilium_primary;
    if (cilium ? !from.cilium : !from.source)
      return false;
    return up(*a.first, cilium) && up(*b.first, cilium);
  }
};

}  // namespace cnimig::migrate::test
