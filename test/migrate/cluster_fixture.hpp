#pragma once
// Test support: a small cluster before the migration, a monitor that checks
// ordering safety property (src/migrate/README.md) and the budget after every action, and
// a canonical form of a snapshot for comparing end states.

#include <initializer_list>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/gate.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/node_phase.hpp"
#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"
#include "cnimig/migrate/step_id.hpp"

namespace cnimig::migrate {
// Boost.Test prints values of failed comparisons.
inline std::ostream& operator<<(std::ostream& os, StepId s) {
  return os << to_string(s);
}
inline std::ostream& operator<<(std::ostream& os, NodePhase p) {
  return os << to_string(p);
}
}  // namespace cnimig::migrate
namespace cnimig::config {
inline std::ostream& operator<<(std::ostream& os, Gate g) {
  return os << to_string(g);
}
}  // namespace cnimig::config

namespace cnimig::migrate::test {

struct FixtureOptions {
  std::size_t nodes = 4;
  bool knet_stress_installed = false;
  std::set<std::string> cordoned;  // administrator-cordoned before the migration
};

// A finished check that started at `generation` with nothing in flight.
inline CheckResult check_result(bool passed, std::uint64_t generation, std::string detail = {}) {
  CheckResult c;
  c.passed = passed;
  c.generation = generation;
  c.detail = std::move(detail);
  return c;
}

inline std::string node_name(std::size_t i) {
  return "node-" + std::to_string(i);
}

inline PlanState make_cluster(const MigrationSettings& s, const FixtureOptions& o = {}) {
  PlanState snap;
  snap.now = 1000;
  auto ds = [&](const ObjectRef& ref) { snap.workloads[ref] = WorkloadState{true, true, {}, {}}; };
  ds(s.source_cni);
  snap.workloads[ObjectRef{kDeployment, "default", "web"}] = WorkloadState{true, true, {}, {}};
  snap.workloads[ObjectRef{kStatefulSet, "default", "db"}] = WorkloadState{true, true, {}, {}};
  if (o.knet_stress_installed) {
    for (const auto& ref : s.knet_stress())
      ds(ref);
    snap.applied_bundles.insert(s.bundles.knet_stress);
  }
  for (std::size_t i = 0; i < o.nodes; ++i) {
    NodeState n;
    n.name = node_name(i);
    n.labels["kubernetes.io/hostname"] = n.name;
    n.unschedulable = o.cordoned.contains(n.name);
    auto pod = [&](std::string ns, std::string name, std::string kind, std::string owner,
                   bool host) {
      PodState p;
      p.ns = std::move(ns);
      p.name = std::move(name);
      p.owner_kind = std::move(kind);
      p.owner_name = std::move(owner);
      p.host_network = host;
      p.uid = "uid-" + p.name;
      p.created = 100;
      n.pods.push_back(p);
    };
    pod(s.source_cni.ns, s.source_cni.name + "-" + n.name, kDaemonSet, s.source_cni.name, true);
    if (!n.unschedulable)
      pod("default", "web-7f9c-" + n.name, "ReplicaSet", "web-7f9c", false);
    if (i == 0) {
      pod("default", "db-0", kStatefulSet, "db", false);
      PodState mirror;
      mirror.ns = "kube-system";
      mirror.name = "kube-apiserver-" + n.name;
      mirror.owner_kind = "Node";
      mirror.owner_name = n.name;
      mirror.host_network = true;
      mirror.mirror = true;
      n.pods.push_back(mirror);
    }
    if (o.knet_stress_installed) {
      for (const auto& ref : s.knet_stress()) {
        pod(ref.ns, ref.name + "-" + n.name, kDaemonSet, ref.name, false);
      }
    }
    snap.nodes.emplace(n.name, std::move(n));
  }
  return snap;
}

// Forget everything a driver keeps in memory: what a fresh process sees.
inline PlanState fresh_process(PlanState snap) {
  RunRecord fresh;
  fresh.now = snap.now;  // the server's clock goes on
  static_cast<RunRecord&>(snap) = fresh;
  return snap;
}

// End state compared across runs: pod names and creation times differ when
// a restart re-creates a pod once more, and the scheduler may place a
// Deployment's replica elsewhere, so pods are compared by owner.
inline std::string canonical(const ClusterSnapshot& snap) {
  std::ostringstream out;
  std::map<std::string, int> workload_pods;
  for (const auto& [name, n] : snap.nodes) {
    out << "node " << name << (n.unschedulable ? " cordoned" : "") << "\n";
    for (const auto& [k, v] : n.labels)
      out << "  label " << k << "=" << v << "\n";
    for (const auto& [k, v] : n.annotations)
      out << "  annotation " << k << "=" << v << "\n";
    for (const auto& t : n.taints)
      out << "  taint " << t.key << "=" << t.value << ":" << t.effect << "\n";
    std::multiset<std::string> pods;
    for (const auto& p : n.pods) {
      if (p.daemon_set_owned() || p.mirror) {
        pods.insert(p.ns + "/" + p.owner_kind + "/" + p.owner_name + (p.ready ? "" : " not-ready"));
      } else {
        ++workload_pods[p.ns + "/" + p.owner_kind + "/" + p.owner_name];
      }
    }
    for (const auto& p : pods)
      out << "  pod " << p << "\n";
  }
  for (const auto& p : snap.unscheduled_pods)
    ++workload_pods["unscheduled " + p.owner_name];
  for (const auto& [k, v] : workload_pods)
    out << "workload pods " << k << " x" << v << "\n";
  for (const auto& [ref, w] : snap.workloads) {
    out << "object " << ref.describe() << (w.exists ? "" : " absent") << (w.ready ? " ready" : "");
    for (const auto& [k, v] : w.node_selector)
      out << " " << k << "=" << v;
    out << "\n";
  }
  for (const auto& b : snap.applied_bundles)
    out << "bundle " << b << "\n";
  return out.str();
}

// For every prefix of `reference` (the actions of a whole run from `start`):
// a fresh process resumes after it and must reach `expected` (canonical())
// with the monitor `make_monitor()` returns (observe(), violations) silent
// over the prefix and the rest.
template <class MakeMonitor>
void resume_after_every_prefix(const PlanState& start, const MigrationSettings& s, Budget budget,
                               const SimulatedEffects& effects,
                               const std::vector<Action>& reference, const std::string& expected,
                               MakeMonitor make_monitor) {
  for (std::size_t k = 0; k <= reference.size(); ++k) {
    auto monitor = make_monitor();
    PlanState snap = start;
    for (std::size_t i = 0; i < k; ++i) {
      effects.apply(snap, reference[i]);
      monitor.observe(snap, reference[i]);
    }
    auto resumed =
        run_plan(fresh_process(snap), s, budget, Selection{}, effects, 100000,
                 [&](const ClusterSnapshot& after, const Action& a) { monitor.observe(after, a); });
    BOOST_REQUIRE_MESSAGE(resumed.outcome && std::holds_alternative<Done>(*resumed.outcome),
                          "interrupted after " << k << " actions: "
                                               << (resumed.outcome ? describe(*resumed.outcome)
                                                                   : std::string("no outcome")));
    BOOST_TEST(monitor.violations.empty(), "interrupted after " << k);
    for (const auto& v : monitor.violations)
      BOOST_TEST_MESSAGE(v);
    BOOST_TEST(canonical(resumed.final_snapshot) == expected, "interrupted after " << k);
  }
}

// What the monitors below share: their violations, each pod's interfaces
// (`nets_`), and the budget read from the nodes after every action.
class MonitorBase {
 public:
  std::vector<std::string> violations;

 protected:
  MonitorBase(const MigrationSettings& s, Budget budget, std::set<std::string> admin_cordoned)
      : s_(s), budget_(budget), admin_cordoned_(std::move(admin_cordoned)) {}

  struct Net {
    bool source = false;
    bool cilium = false;
    bool cilium_primary = false;
  };
  struct BudgetUse {
    std::size_t cordoned = 0;   // by the agent (not by an administrator)
    std::size_t in_flight = 0;  // nodes carrying one of the step annotations
  };

  void fail(std::string what) {
    if (violations.size() < 20)
      violations.push_back("after action " + std::to_string(actions_) + ": " + what);
  }
  // Counts what the budget bounds and fails when it is exceeded;
  // `step_annotations` name what marks a node in flight.
  BudgetUse check_budget(const ClusterSnapshot& snap,
                         std::initializer_list<std::string_view> step_annotations) {
    BudgetUse use;
    for (const auto& [name, n] : snap.nodes) {
      if (n.unschedulable && !admin_cordoned_.contains(name))
        ++use.cordoned;
      for (auto key : step_annotations) {
        if (n.annotations.contains(s_.annotation(key)))
          ++use.in_flight;
      }
    }
    if (use.cordoned > budget_.max_unavailable)
      fail("more nodes cordoned than --max-unavailable");
    if (use.in_flight > budget_.max_parallel_nodes)
      fail("more nodes in flight than --max-parallel-nodes");
    return use;
  }

  const MigrationSettings& s_;
  Budget budget_;
  std::set<std::string> admin_cordoned_;
  std::map<std::string, Net> nets_;
  std::size_t actions_ = 0;
};

// src/migrate/README.md "Safety rules": a node may drop the source CNI only when every
// pod anywhere already has a Cilium interface (and takes its IP from Cilium,
// so that pods on Cilium-only nodes reach it); the source CNI DaemonSet may go
// only when no node needs it. Pods' interfaces follow the node's CNI config
// when the pod was created, as in the simulator's network model.
class SafetyMonitor : public MonitorBase {
 public:
  SafetyMonitor(const MigrationSettings& s, Budget budget, std::set<std::string> admin_cordoned)
      : MonitorBase(s, budget, std::move(admin_cordoned)) {}

  void observe(const ClusterSnapshot& snap, const Action& action) {
    ++actions_;
    const auto& l = s_.labels;
    auto has = [&](const NodeState& n, const std::string& k) {
      auto it = n.labels.find(k);
      return it != n.labels.end() && it->second == l.value;
    };
    for (const auto& [name, n] : snap.nodes) {
      for (const auto& p : n.pods) {
        const auto key = pod_key(p);
        if (nets_.contains(key))
          continue;
        Net net;
        if (p.created <= 100) {
          net = Net{true, false, false};
        } else if (has(n, l.cilium) && !has(n, l.calico_cilium)) {
          net = Net{false, true, true};
        } else if (has(n, l.cni_priority_cilium) && snap.exists(s_.multus_cilium())) {
          net = Net{true, true, true};
        } else if (has(n, l.cni_priority_calico) && snap.exists(s_.multus_calico())) {
          net = Net{true, true, false};
        } else {
          net = Net{true, false, false};
        }
        nets_[key] = net;
      }
    }
    // A pod that takes its IP from Cilium is reachable only from pods with a
    // Cilium interface: once one exists, every pod in service needs one.
    bool cilium_ips = false;
    for (const auto& [name, n] : snap.nodes) {
      for (const auto& p : n.pods)
        cilium_ips = cilium_ips || (!p.host_network && nets_[pod_key(p)].cilium_primary);
    }
    if (cilium_ips) {
      each_pod_in_service(snap, [&](const std::string& node, const PodState& p) {
        if (!nets_[pod_key(p)].cilium)
          fail("pod " + pod_key(p) + " on " + node + " cannot reach pods with Cilium IPs");
      });
    }
    if (const auto* del = std::get_if<DeleteObject>(&action.kind);
        del && del->object == s_.source_cni) {
      for (const auto& [name, n] : snap.nodes) {
        if (has(n, l.calico_cilium))
          fail("source CNI deleted while " + name + " needs it");
      }
    }
    bool cilium_only = false;
    // Once cleanup removed cilium-migrated's selector, Cilium runs everywhere
    // whatever the labels say.
    const auto* cm = snap.workload(s_.cilium_migrated());
    const bool cleanup = cm != nullptr && cm->exists && !cm->node_selector.contains(l.cilium);
    for (const auto& [name, n] : snap.nodes) {
      if (has(n, l.cilium) && !has(n, l.calico_cilium))
        cilium_only = true;
    }
    if (cilium_only && !cleanup) {
      for (const auto& [name, n] : snap.nodes) {
        bool prioritised = (has(n, l.cni_priority_cilium) || has(n, l.migrated)) &&
                           !n.annotations.contains(s_.annotation(annotation_names::kPriority));
        if (!prioritised)
          fail("a node lost the source CNI before " + name + " was prioritised");
      }
      each_pod_in_service(snap, [&](const std::string& node, const PodState& p) {
        if (!nets_[pod_key(p)].cilium_primary)
          fail("pod " + pod_key(p) + " on " + node + " has no Cilium IP");
      });
    }
    const auto use = check_budget(
        snap, {annotation_names::kRoll, annotation_names::kPriority, annotation_names::kMigrate});
    max_unavailable_seen = std::max(max_unavailable_seen, use.cordoned);
    max_parallel_seen = std::max(max_parallel_seen, use.in_flight);
  }

  std::size_t max_unavailable_seen = 0;
  std::size_t max_parallel_seen = 0;

  // Every pod a run leaves behind takes its IP from Cilium.
  bool all_pods_on_cilium(const ClusterSnapshot& snap) {
    for (const auto& [name, n] : snap.nodes) {
      for (const auto& p : n.pods) {
        if (!p.host_network && !nets_[pod_key(p)].cilium_primary)
          return false;
      }
    }
    return true;
  }

 private:
  // A pod incarnation: the effects model re-creates DaemonSet pods under new names.
  static std::string pod_key(const PodState& p) {
    return p.ns + "/" + p.name + "@" + std::to_string(p.created);
  }
  // Ready pods with their own network on nodes in service (a cordoned node is
  // in maintenance: its pods may be unreachable for a while).
  template <class F>
  static void each_pod_in_service(const ClusterSnapshot& snap, F&& f) {
    for (const auto& [name, n] : snap.nodes) {
      if (n.unschedulable)
        continue;
      for (const auto& p : n.pods) {
        if (!p.host_network && p.ready)
          f(name, p);
      }
    }
  }
};

}  // namespace cnimig::migrate::test
