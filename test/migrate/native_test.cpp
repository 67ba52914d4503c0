// The cilium-native strategy's core (src/migrate/README.md "The cilium-native
// strategy"): prepare, every phase of the per-node step, its order, waits and
// refusals, the finish, and interruption after every action of a run (a
// fresh process completes it to the same end, within the budget, never
// deleting the source CNI while a node or pod needs it).

#define BOOST_TEST_MODULE migrate_native
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

using namespace cnimig::migrate;
using namespace cnimig::migrate::test;

namespace {

MigrationSettings native_settings() {
  auto s = MigrationSettings::defaults();
  s.strategy = cnimig::config::Strategy::cilium_native;
  return s;
}

const MigrationSettings N = native_settings();

bool on_cilium_pool(const std::string& ip) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address_v4(ip, ec);
  return !ec && boost::asio::ip::network_v4(a, 32).is_subnet_of(
                    boost::asio::ip::make_network_v4(N.cilium_pod_cidr));
}

NodePhase phase_of(const ClusterSnapshot& snap, const std::string& node) {
  return node_phase(snap.nodes.at(node), snap, N);
}

// Applies decisions until `stop` holds (or the run ends); a round with only
// waits lets the server's clock tick, as a cut-off needs.
template <class Stop>
PlanState drive_until(PlanState snap, Budget budget, Stop stop) {
  SimulatedEffects effects(N);
  for (int round = 0; round < 10000 && !stop(snap); ++round) {
    auto d = next_actions(snap, N, budget, Selection{});
    if (d.halted() || d.finished())
      break;
    if (d.actions().empty())
      ++snap.now;
    for (const auto& a : d.actions()) {
      effects.apply(snap, a);
      if (stop(snap))
        return snap;
    }
  }
  return snap;
}

PlanState at_phase(NodePhase phase, const std::string& node = "node-0") {
  auto snap = drive_until(make_cluster(N), Budget{1, 1},
                          [&](const ClusterSnapshot& s) { return phase_of(s, node) == phase; });
  BOOST_REQUIRE_EQUAL(phase_of(snap, node), phase);
  return snap;
}

template <class T>
const T* first_of(const std::vector<Action>& actions) {
  for (const auto& a : actions) {
    if (const auto* p = std::get_if<T>(&a.kind))
      return p;
  }
  return nullptr;
}

bool waits_on(const Decision& d, Gate gate, const std::string& node) {
  for (const auto& w : d.waits) {
    if (w.node == node && std::get<WaitFor>(w.kind).gate == gate)
      return true;
  }
  return false;
}

// The safety rules of the strategy as the simulator's oracle counts them:
// the source CNI DaemonSet goes only once every node is migrated and no pod
// holds an address of the source CNI; the budget holds.
class NativeMonitor : public MonitorBase {
 public:
  NativeMonitor(Budget budget, std::set<std::string> admin_cordoned)
      : MonitorBase(N, budget, std::move(admin_cordoned)) {}

  void observe(const ClusterSnapshot& snap, const Action& action) {
    ++actions_;
    if (const auto* del = std::get_if<DeleteObject>(&action.kind);
        del != nullptr && del->object == N.source_cni) {
      for (const auto& [name, n] : snap.nodes) {
        if (!n.labels.contains(N.labels.migrated))
          fail("source CNI deleted while " + name + " is not migrated");
        for (const auto& p : n.pods) {
          if (!p.host_network && !on_cilium_pool(p.ip))
            fail("source CNI deleted while " + p.ns + "/" + p.name + " has " + p.ip);
        }
      }
    }
    // A node back in service with the label carries only Cilium-addressed pods.
    for (const auto& [name, n] : snap.nodes) {
      if (n.unschedulable || !n.labels.contains(N.labels.migrated))
        continue;
      for (const auto& p : n.pods) {
        if (!p.host_network && !on_cilium_pool(p.ip))
          fail(name + " migrated with " + p.ns + "/" + p.name + " on " + p.ip);
      }
    }
    const auto use = check_budget(snap, {annotation_names::kNative});
    max_parallel_seen = std::max(max_parallel_seen, use.in_flight);
    max_unavailable_seen = std::max(max_unavailable_seen, use.cordoned);
  }

  std::size_t max_parallel_seen = 0;
  std::size_t max_unavailable_seen = 0;
};

void check_end_state(const ClusterSnapshot& end, const std::set<std::string>& admin_cordoned) {
  for (const auto& [name, n] : end.nodes) {
    for (const auto& key : N.labels.all())
      BOOST_TEST(!n.labels.contains(key), name << " " << key);
    BOOST_TEST(n.annotations.empty(), name);
    BOOST_TEST(n.unschedulable == admin_cordoned.contains(name), name);
    bool agent = false;
    for (const auto& p : n.pods) {
      agent = agent || p.owner_name == N.cilium_daemon_set;
      BOOST_TEST(p.owner_name != N.source_cni.name, name);
      if (!p.host_network)
        BOOST_TEST(on_cilium_pool(p.ip), name << " " << p.name << " " << p.ip);
    }
    BOOST_TEST(agent, name << " runs cilium");
  }
  BOOST_TEST(!end.exists(N.source_cni));
  BOOST_TEST(end.exists(N.cilium()));
  BOOST_TEST(end.workload(N.cilium())->node_selector.empty());
  BOOST_TEST(!end.applied_bundles.contains(N.bundles.cilium_node_config));
  BOOST_TEST(end.applied_bundles.contains(N.bundles.cilium_native));
  BOOST_TEST(!end.applied_bundles.contains(N.bundles.cilium));
  BOOST_TEST(!end.applied_bundles.contains(N.bundles.multus));
  BOOST_TEST(end.unscheduled_pods.empty());
}

void interruption_sweep(Budget budget, FixtureOptions options) {
  const SimulatedEffects effects(N);
  const auto start = make_cluster(N, options);
  NativeMonitor reference_monitor(budget, options.cordoned);
  auto reference = run_plan(
      start, N, budget, Selection{}, effects, 100000,
      [&](const ClusterSnapshot& snap, const Action& a) { reference_monitor.observe(snap, a); });
  BOOST_REQUIRE(reference.outcome.has_value());
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<Done>(*reference.outcome),
                        describe(*reference.outcome));
  BOOST_TEST(reference_monitor.violations.empty());
  for (const auto& v : reference_monitor.violations)
    BOOST_TEST_MESSAGE(v);
  BOOST_TEST(reference_monitor.max_parallel_seen == budget.max_parallel_nodes);
  check_end_state(reference.final_snapshot, options.cordoned);
  resume_after_every_prefix(start, N, budget, effects, reference.actions,
                            canonical(reference.final_snapshot),
                            [&] { return NativeMonitor(budget, options.cordoned); });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(prepare)

// Cilium first; its CiliumNodeConfig only once the operator that registers
// the CRD is Ready; no node labelled.
BOOST_AUTO_TEST_CASE(cilium_then_the_node_config_once_the_operator_is_ready) {
  FixtureOptions o;
  o.knet_stress_installed = true;
  auto snap = make_cluster(N, o);
  snap.last_check = check_result(true, 0);
  SimulatedEffects effects(N);
  auto d = next_actions(snap, N, Budget{}, Selection{});
  BOOST_TEST((d.current_step == StepId::prepare));
  BOOST_REQUIRE_EQUAL(d.actions().size(), 1u);
  BOOST_TEST((std::get<ApplyBundle>(d.actions()[0].kind).id == N.bundles.cilium_native));
  effects.apply(snap, d.actions()[0]);
  snap.workloads[N.cilium_operator()].ready = false;
  d = next_actions(snap, N, Budget{}, Selection{});
  BOOST_TEST(d.actions().empty());
  BOOST_TEST(waits_on(d, Gate::resources_ready, ""));
  BOOST_TEST(!step_done(StepId::prepare, snap, N));
  snap.workloads[N.cilium_operator()].ready = true;
  d = next_actions(snap, N, Budget{}, Selection{});
  BOOST_REQUIRE_EQUAL(d.actions().size(), 1u);
  BOOST_TEST((std::get<ApplyBundle>(d.actions()[0].kind).id == N.bundles.cilium_node_config));
  effects.apply(snap, d.actions()[0]);
  BOOST_TEST(step_done(StepId::prepare, snap, N));
  for (const auto& [name, n] : snap.nodes)
    BOOST_TEST(n.labels.size() == 1u, name);  // kubernetes.io/hostname only
}

BOOST_AUTO_TEST_CASE(roll_and_priority_are_skipped_and_rollback_refused) {
  auto snap = make_cluster(N);
  auto d = next_actions(snap, N, Budget{}, Selection{});
  BOOST_TEST((d.steps[static_cast<std::size_t>(StepId::roll)] == StepState::done));
  BOOST_TEST((d.steps[static_cast<std::size_t>(StepId::priority)] == StepState::done));
  auto run = run_plan(snap, N, Budget{2, 2}, Selection{}, SimulatedEffects(N));
  BOOST_REQUIRE(run.outcome && std::holds_alternative<Done>(*run.outcome));
  for (const auto& a : run.actions)
    BOOST_TEST((a.step != StepId::roll && a.step != StepId::priority), describe(a));
  Selection rollback;
  rollback.rollback = true;
  d = next_actions(snap, N, Budget{}, rollback);
  BOOST_REQUIRE(d.halted());
  BOOST_TEST(d.halt_reason()->find("cilium-native") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(per_node)

BOOST_AUTO_TEST_CASE(every_phase_is_reached_and_the_run_ends_clean) {
  std::set<NodePhase> phases;
  NativeMonitor monitor(Budget{1, 1}, {});
  auto observe = [&](const ClusterSnapshot& snap, const Action& a) {
    monitor.observe(snap, a);
    for (const auto& [name, n] : snap.nodes)
      phases.insert(node_phase(n, snap, N));
  };
  auto start = make_cluster(N);
  for (const auto& [name, n] : start.nodes)
    phases.insert(node_phase(n, start, N));
  auto run = run_plan(start, N, Budget{1, 1}, Selection{}, SimulatedEffects(N), 100000, observe);
  BOOST_REQUIRE(run.outcome && std::holds_alternative<Done>(*run.outcome));
  BOOST_TEST(monitor.violations.empty());
  // The agent is Ready at once in the effects model: its own test below.
  phases.insert(NodePhase::native_agent_wait);
  for (int p = static_cast<int>(NodePhase::native_pending);
       p <= static_cast<int>(NodePhase::cleaned); ++p) {
    BOOST_TEST(phases.contains(static_cast<NodePhase>(p)), to_string(static_cast<NodePhase>(p)));
  }
  check_end_state(run.final_snapshot, {});
}

// A stop (SIGINT) ends a run once every node is at a safe point: waiting for
// its turn or done, never inside the step.
BOOST_AUTO_TEST_CASE(safe_points) {
  for (int p = static_cast<int>(NodePhase::native_pending);
       p <= static_cast<int>(NodePhase::cleaned); ++p) {
    const auto phase = static_cast<NodePhase>(p);
    const bool safe = phase == NodePhase::native_pending || phase == NodePhase::migrated ||
                      phase == NodePhase::cleaned;
    BOOST_TEST(at_safe_point(phase) == safe, to_string(phase));
  }
}

// One node's writes in the order the step promises, with the gates where
// they belong.
BOOST_AUTO_TEST_CASE(one_node_in_order) {
  auto run = run_plan(make_cluster(N), N, Budget{1, 1}, Selection{}, SimulatedEffects(N));
  BOOST_REQUIRE(run.outcome && std::holds_alternative<Done>(*run.outcome));
  const std::string node = "node-1";
  const auto& acts = run.actions;
  auto find = [&](auto pred, std::size_t from = 0) {
    for (std::size_t i = from; i < acts.size(); ++i) {
      if (acts[i].node == node && pred(acts[i]))
        return i;
    }
    BOOST_FAIL("action not found after " << from);
    return acts.size();
  };
  auto annotates = [&](std::string_view key, std::string value) {
    return [=](const Action& a) {
      const auto* an = std::get_if<AnnotateNode>(&a.kind);
      return an && an->set.contains(N.annotation(key)) &&
             (value.empty() || an->set.at(N.annotation(key)) == value);
    };
  };
  auto labels = [&](const std::string& key) {
    return [=](const Action& a) {
      const auto* l = std::get_if<LabelNode>(&a.kind);
      return l && l->set.contains(key);
    };
  };
  auto cordon = [](bool on) {
    return [=](const Action& a) {
      const auto* c = std::get_if<SetCordon>(&a.kind);
      return c && c->unschedulable == on;
    };
  };
  auto deletes = [&](bool agent) {
    return [=](const Action& a) {
      const auto* d = std::get_if<DeletePod>(&a.kind);
      return d && (d->name.starts_with(N.cilium_daemon_set + "-") == agent);
    };
  };
  const auto started = find(annotates(annotation_names::kNative, "started"));
  const auto cordoned = find(cordon(true), started);
  const auto agent_cutoff = find(annotates(annotation_names::kNativePodsBefore, ""), cordoned);
  const auto labelled = find(labels(N.labels.cilium_default), agent_cutoff);
  const auto agent_deleted = find(deletes(true), labelled);
  const auto deleting = find(annotates(annotation_names::kNative, "deleting"), agent_deleted);
  const auto pods_deleted = find(deletes(false), deleting);
  const auto recorded = find(annotates(annotation_names::kNative, "pods-deleted"), pods_deleted);
  const auto uncordoned = find(cordon(false), recorded);
  const auto migrated = find(labels(N.labels.migrated), uncordoned);
  const auto removed = find(
      [&](const Action& a) {
        const auto* an = std::get_if<AnnotateNode>(&a.kind);
        return an && !an->remove.empty();
      },
      migrated);
  // A check between the pods' re-creation and the uncordon, and between the
  // label and the annotations' removal (completion after the gate).
  auto check_between = [&](std::size_t from, std::size_t to) {
    for (auto i = from; i < to; ++i) {
      if (std::holds_alternative<RunConnectivityCheck>(acts[i].kind))
        return true;
    }
    return false;
  };
  BOOST_TEST(check_between(recorded, uncordoned));
  BOOST_TEST(check_between(migrated, removed));
  const auto* removal = std::get_if<AnnotateNode>(&acts[removed].kind);
  for (auto key : {annotation_names::kNative, annotation_names::kNativePodsBefore,
                   annotation_names::kDrainSince}) {
    BOOST_TEST((std::find(removal->remove.begin(), removal->remove.end(), N.annotation(key)) !=
                removal->remove.end()));
  }
}

BOOST_AUTO_TEST_CASE(agent_not_ready_waits) {
  auto snap = at_phase(NodePhase::native_agent_ready);
  for (auto& p : snap.nodes.at("node-0").pods) {
    if (p.owner_name == N.cilium_daemon_set)
      p.ready = false;
  }
  BOOST_TEST(phase_of(snap, "node-0") == NodePhase::native_agent_wait);
  auto d = next_actions(snap, N, Budget{1, 1}, Selection{});
  BOOST_TEST(waits_on(d, Gate::cni_ready, "node-0"));
  for (const auto& a : d.actions())
    BOOST_TEST(a.node != "node-0", describe(a));
}

// The agent that predates the label read no CiliumNodeConfig for the node:
// it is deleted, once the server's clock has passed the cut-off.
BOOST_AUTO_TEST_CASE(old_agent_is_deleted_after_the_cut_off) {
  auto snap = at_phase(NodePhase::native_agent_restarting);
  const auto cut = std::stoll(
      snap.nodes.at("node-0").annotations.at(N.annotation(annotation_names::kNativePodsBefore)));
  snap.now = cut - 1;
  auto d = next_actions(snap, N, Budget{1, 1}, Selection{});
  BOOST_TEST(waits_on(d, Gate::cut_off, "node-0"));
  BOOST_TEST(first_of<DeletePod>(d.actions()) == nullptr);
  snap.now = cut;
  d = next_actions(snap, N, Budget{1, 1}, Selection{});
  const auto* del = first_of<DeletePod>(d.actions());
  BOOST_REQUIRE(del != nullptr);
  BOOST_TEST(del->name.starts_with(N.cilium_daemon_set + "-node-0"));
}

// A pod still on the source CNI's address after its re-creation stops the
// run naming it; one not Ready yet is waited for; neither is uncordoned.
BOOST_AUTO_TEST_CASE(pods_must_be_ready_on_cilium_addresses) {
  auto snap = at_phase(NodePhase::native_pods_deleted);
  PodState* pod = nullptr;
  for (auto& p : snap.nodes.at("node-0").pods) {
    if (!p.host_network && !p.mirror)
      pod = &p;
  }
  BOOST_REQUIRE(pod != nullptr);
  pod->ready = false;
  auto d = next_actions(snap, N, Budget{1, 1}, Selection{});
  BOOST_TEST(waits_on(d, Gate::pods_ready, "node-0"));
  BOOST_TEST(first_of<SetCordon>(d.actions()) == nullptr);
  pod->ready = true;
  pod->ip = "10.244.3.7";
  d = next_actions(snap, N, Budget{1, 1}, Selection{});
  BOOST_REQUIRE(d.halted());
  BOOST_TEST(
      d.halt_reason()->find(pod->ns + "/" + pod->name + " (10.244.3.7)") != std::string::npos,
      *d.halt_reason());
  BOOST_TEST(d.halt_reason()->find(N.cilium_pod_cidr) != std::string::npos);
}

// An administrator's cordon is neither counted nor lifted; the node still
// goes through every check.
BOOST_AUTO_TEST_CASE(admin_cordoned_node_stays_cordoned) {
  FixtureOptions o;
  o.cordoned = {"node-0"};
  auto run = run_plan(make_cluster(N, o), N, Budget{1, 1}, Selection{}, SimulatedEffects(N));
  BOOST_REQUIRE(run.outcome && std::holds_alternative<Done>(*run.outcome));
  for (const auto& a : run.actions) {
    if (a.node == "node-0")
      BOOST_TEST(!std::holds_alternative<SetCordon>(a.kind), describe(a));
  }
  check_end_state(run.final_snapshot, o.cordoned);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(finish)

// Cilium's defaults back, the agents and the operator restarted, the
// CiliumNodeConfig deleted; the source CNI only once the agents rolled out.
BOOST_AUTO_TEST_CASE(defaults_then_source_after_the_rollout) {
  auto snap = drive_until(make_cluster(N), Budget{2, 2}, [](const ClusterSnapshot& s) {
    for (const auto& [name, n] : s.nodes) {
      if (!n.labels.contains(N.labels.migrated) || !n.annotations.empty())
        return false;
    }
    return true;
  });
  auto d = next_actions(snap, N, Budget{2, 2}, Selection{});
  BOOST_TEST((d.current_step == StepId::cleanup));
  while (!d.actions().empty() &&
         std::holds_alternative<RunConnectivityCheck>(d.actions()[0].kind)) {
    SimulatedEffects(N).apply(snap, d.actions()[0]);
    d = next_actions(snap, N, Budget{2, 2}, Selection{});
  }
  BOOST_REQUIRE_EQUAL(d.actions().size(), 2u);
  const auto& restore = std::get<RestoreCiliumDefaults>(d.actions()[0].kind);
  BOOST_TEST((restore.data == N.native_cilium_defaults));
  BOOST_TEST(restore.data.at("custom-cni-conf") == "false");
  BOOST_TEST(restore.data.at("write-cni-conf-when-ready") ==
             "/host/etc/cni/net.d/05-cilium.conflist");
  BOOST_TEST((restore.restart_daemon_sets == std::vector<std::string>{N.cilium_daemon_set}));
  BOOST_TEST(restore.operator_deployment == N.cilium_operator_deployment);
  BOOST_TEST((std::get<DeleteBundle>(d.actions()[1].kind).id == N.bundles.cilium_node_config));
  SimulatedEffects effects(N);
  for (const auto& a : d.actions())
    effects.apply(snap, a);
  snap.workloads[N.cilium()].ready = false;  // rolling out
  d = next_actions(snap, N, Budget{2, 2}, Selection{});
  BOOST_TEST(first_of<DeleteObject>(d.actions()) == nullptr);
  BOOST_TEST(waits_on(d, Gate::resources_ready, ""));
  snap.workloads[N.cilium()].ready = true;
  d = next_actions(snap, N, Budget{2, 2}, Selection{});
  std::vector<ObjectRef> deleted;
  for (const auto& a : d.actions()) {
    if (const auto* del = std::get_if<DeleteObject>(&a.kind))
      deleted.push_back(del->object);
  }
  BOOST_TEST((std::find(deleted.begin(), deleted.end(), N.source_cni) != deleted.end()));
  BOOST_TEST((std::find(deleted.begin(), deleted.end(), N.cilium()) == deleted.end()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(interruption)

BOOST_AUTO_TEST_CASE(interrupt_after_every_action_parallel_1) {
  interruption_sweep(Budget{1, 1}, FixtureOptions{});
}

BOOST_AUTO_TEST_CASE(interrupt_after_every_action_parallel_3) {
  interruption_sweep(Budget{3, 3}, FixtureOptions{});
}

BOOST_AUTO_TEST_CASE(interrupt_with_admin_cordoned_node_and_knet_stress_present) {
  FixtureOptions o;
  o.cordoned = {"node-2"};
  o.knet_stress_installed = true;
  interruption_sweep(Budget{2, 1}, o);
}

BOOST_AUTO_TEST_SUITE_END()
