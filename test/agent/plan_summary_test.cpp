// The plan summary for people (plan_summary.hpp): a whole 4-node plan folded
// into per-step counts and names, node journeys, what is irreversible, a
// duration bound and the warnings. Content, not wording, is checked.

#include "cnimig/agent/plan_summary.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/plan_summary_facts.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

using namespace cnimig;
using namespace cnimig::migrate;

namespace {

bool any_contains(const std::vector<std::string>& items, std::string_view needle) {
  return std::any_of(items.begin(), items.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

const agent::StepSummary& step_of(const agent::PlanSummary& s, StepId id) {
  auto it = std::find_if(s.steps.begin(), s.steps.end(),
                         [&](const agent::StepSummary& x) { return x.step == id; });
  BOOST_TEST_REQUIRE((it != s.steps.end()), "no step " << to_string(id));
  return *it;
}

// A 4-node cluster where node-2 was cordoned by an administrator and node-1
// runs a pod no controller owns, which the operator allowed the drain to
// delete (drain.deleteUnmanagedPods): the plan goes through and the summary
// warns about it.
struct FourNodePlan {
  MigrationSettings settings = MigrationSettings::defaults();
  PlanState cluster;
  PlanRun run;
  Budget budget{1, 1};
  config::Timeouts timeouts;

  explicit FourNodePlan(Budget b = {1, 1}, bool delete_unmanaged = true, bool hold = false)
      : budget(b) {
    settings.delete_unmanaged_pods = delete_unmanaged;
    settings.hold_before_cleanup = hold;
    test::FixtureOptions o;
    o.nodes = 4;
    o.knet_stress_installed = true;
    o.cordoned = {"node-2"};
    cluster = test::make_cluster(settings, o);
    PodState bare;
    bare.ns = "default";
    bare.name = "debug-shell";
    bare.uid = "uid-debug-shell";
    bare.created = 100;
    cluster.nodes.at("node-1").pods.push_back(bare);
    run = run_plan(cluster, settings, budget, Selection{}, SimulatedEffects(settings));
    BOOST_TEST_REQUIRE(run.outcome.has_value());
  }

  agent::PlanSummary summarize(const agent::PlanFacts& facts) const {
    agent::PlanSummaryInput in{run.actions, run.outcome, budget, timeouts, facts, {}};
    in.bundle_objects["multus"] = {"DaemonSet kube-system/kube-multus-calico",
                                   "DaemonSet kube-system/kube-multus-cilium"};
    return agent::summarize_plan(in);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(plan_summary)

BOOST_AUTO_TEST_CASE(facts_name_the_administrators_cordon_and_unmanaged_pods) {
  FourNodePlan p;
  const auto facts = agent::plan_facts(p.cluster, p.settings);
  BOOST_TEST(facts.cordoned_by_administrator == std::vector<std::string>{"node-2"});
  BOOST_TEST(facts.unmanaged_pods.size() == 1u);
  BOOST_TEST(facts.unmanaged_pods.at("uid-debug-shell") == "default/debug-shell");

  // A node the agent itself cordoned (a step in flight, no was-cordoned) is not the
  // administrator's.
  auto ours = p.cluster;
  ours.nodes.at("node-0").unschedulable = true;
  ours.nodes.at("node-0").annotations[p.settings.annotation(annotation_names::kRoll)] = "started";
  BOOST_TEST(agent::plan_facts(ours, p.settings).cordoned_by_administrator ==
             std::vector<std::string>{"node-2"});
}

BOOST_AUTO_TEST_CASE(four_node_plan_counts_and_names) {
  FourNodePlan p;
  auto facts = agent::plan_facts(p.cluster, p.settings);
  facts.warnings.push_back("UDP 6081 must be open");
  const auto s = p.summarize(facts);
  BOOST_TEST(!s.halt_reason.has_value());

  std::size_t writes = 0;
  for (const auto& a : p.run.actions)
    writes += is_write(a) ? 1 : 0;
  BOOST_TEST(s.writes == writes);

  const auto& prepare = step_of(s, StepId::prepare);
  BOOST_TEST(prepare.nodes_labelled ==
             (std::set<std::string>{"node-0", "node-1", "node-2", "node-3"}));
  BOOST_TEST(any_contains(prepare.patched, "DaemonSet kube-system/canal nodeSelector"));
  BOOST_TEST(any_contains(prepare.applied, "bundle cilium"));
  BOOST_TEST(any_contains(prepare.applied, "bundle multus (DaemonSet kube-system/kube-multus"));

  const auto& roll = step_of(s, StepId::roll);
  // node-2 is cordoned already: drained, never cordoned (nor uncordoned) by us.
  BOOST_TEST(roll.nodes_cordoned == (std::set<std::string>{"node-0", "node-1", "node-3"}));
  BOOST_TEST(roll.nodes_labelled ==
             (std::set<std::string>{"node-0", "node-1", "node-2", "node-3"}));
  BOOST_TEST(roll.pods_deleted.at("knet-stress") == 8u);   // 2 DaemonSet pods per node
  BOOST_TEST(!roll.pods_deleted.contains("kube-system"));  // canal is hostNetwork
  BOOST_TEST(roll.evicted.at("default") >= 4u);            // web x3, db-0, the bare pod
  BOOST_TEST(roll.node_rounds == 4u);
  BOOST_TEST(s.pods_evicted >= roll.evicted.at("default"));

  const auto& migrate_step = step_of(s, StepId::migrate);
  BOOST_TEST(migrate_step.nodes_tainted ==
             (std::set<std::string>{"node-0", "node-1", "node-2", "node-3"}));

  const auto& cleanup = step_of(s, StepId::cleanup);
  BOOST_TEST(any_contains(cleanup.deleted, "DaemonSet kube-system/canal"));
  BOOST_TEST(any_contains(cleanup.deleted, "DaemonSet kube-system/cilium"));
  BOOST_TEST(any_contains(cleanup.patched,
                          "ConfigMap kube-system/cilium-config data enable-policy=default "
                          "unmanaged-pod-watcher-interval=15 (Cilium's defaults restored)"));
  BOOST_TEST(any_contains(cleanup.patched, "Deployment kube-system/cilium-operator restarted"));
  BOOST_TEST(any_contains(s.irreversible, "DaemonSet kube-system/canal"));
  BOOST_TEST(any_contains(s.irreversible, "bundle multus"));
  // Nothing before cleanup is irreversible.
  BOOST_TEST(std::all_of(s.irreversible.begin(), s.irreversible.end(),
                         [](const std::string& i) { return i.starts_with("cleanup "); }));

  BOOST_TEST(s.node_journeys.size() == 4u);
  const auto& journey0 = s.node_journeys.at("node-0");
  BOOST_TEST(journey0.find("roll (cordon") != std::string::npos, journey0);
  BOOST_TEST(journey0.find("migrate (") != std::string::npos, journey0);
  BOOST_TEST(journey0.find("taint") != std::string::npos, journey0);
  BOOST_TEST(s.node_journeys.at("node-2").find("cordon") == std::string::npos,
             s.node_journeys.at("node-2"));

  BOOST_TEST(any_contains(s.warnings, "node-2"));
  BOOST_TEST(any_contains(s.warnings, "default/debug-shell"));
  BOOST_TEST(any_contains(s.warnings, "UDP 6081"));
  BOOST_TEST(s.warnings.size() == 3u);
}

BOOST_AUTO_TEST_CASE(duration_bound_is_per_node_round_at_the_timeouts) {
  FourNodePlan one;
  FourNodePlan two(Budget{2, 2});
  const agent::PlanFacts none;
  const auto a = one.summarize(none);
  const auto b = two.summarize(none);
  BOOST_TEST(step_of(b, StepId::roll).node_rounds == 2u);
  const auto& t = one.timeouts;
  const auto gate = t.gate + t.connectivity;
  BOOST_TEST(step_of(a, StepId::roll).max_duration.count() ==
             (4 * (t.drain + t.pod_deletion + gate)).count());
  BOOST_TEST(step_of(b, StepId::roll).max_duration.count() ==
             (2 * (t.drain + t.pod_deletion + gate)).count());
  std::chrono::milliseconds total{0};
  for (const auto& s : a.steps)
    total += s.max_duration;
  BOOST_TEST(a.max_duration.count() == total.count());
  BOOST_TEST(b.max_duration < a.max_duration);
}

BOOST_AUTO_TEST_CASE(rendered_text_names_what_a_person_reviews) {
  FourNodePlan p;
  const auto text =
      agent::render_plan_summary(p.summarize(agent::plan_facts(p.cluster, p.settings)));
  for (const char* needle :
       {"node-0", "node-3", "DaemonSet kube-system/canal", "knet-stress 8", "default/debug-shell",
        "Irreversible", "at most", "Needs a human (2)"}) {
    BOOST_TEST(text.find(needle) != std::string::npos, needle << " in:\n" << text);
  }
  BOOST_TEST(std::all_of(text.begin(), text.end(), [](char c) { return c == '\n' || c >= ' '; }));
}

// cleanup.hold: the plan stops before cleanup and says that nothing
// irreversible happens in this run.
BOOST_AUTO_TEST_CASE(a_plan_held_before_cleanup_says_so) {
  FourNodePlan held({1, 1}, true, true);
  const auto s = held.summarize(agent::PlanFacts{});
  BOOST_TEST(s.held_before_cleanup);
  BOOST_TEST(s.irreversible.empty());
  BOOST_TEST(!s.halt_reason.has_value());
  const auto text = agent::render_plan_summary(s);
  BOOST_TEST(text.find("cleanup.hold ends the run before cleanup") != std::string::npos, text);

  FourNodePlan full;
  const auto f = full.summarize(agent::PlanFacts{});
  BOOST_TEST(!f.held_before_cleanup);
  BOOST_TEST(!f.irreversible.empty());
}

// Without the opt-in the core refuses the drain before cordoning anything,
// and the summary's halt reason names the pod.
BOOST_AUTO_TEST_CASE(a_plan_refused_for_an_unmanaged_pod_names_it) {
  FourNodePlan p({1, 1}, false);
  const auto s = p.summarize(agent::plan_facts(p.cluster, p.settings));
  BOOST_TEST_REQUIRE(s.halt_reason.has_value());
  BOOST_TEST(s.halt_reason->find("default/debug-shell") != std::string::npos);
  const auto cordons =
      std::count_if(p.run.actions.begin(), p.run.actions.end(), [](const Action& a) {
        const auto* c = std::get_if<SetCordon>(&a.kind);
        return c != nullptr && c->unschedulable;
      });
  BOOST_TEST(cordons == 0);
}

// A rollback's summary keeps its steps in the order they run (the reverse
// of the migration's, the restore last) and says it is a rollback.
BOOST_AUTO_TEST_CASE(a_rollback_plan_lists_its_steps_in_the_order_they_run) {
  FourNodePlan p;
  Selection migrate_two;
  migrate_two.steps = *config::parse_step_range("0-3");
  auto forward =
      run_plan(p.cluster, p.settings, p.budget, migrate_two, SimulatedEffects(p.settings));
  BOOST_TEST_REQUIRE(forward.outcome.has_value());
  Selection back;
  back.rollback = true;
  auto run =
      run_plan(forward.final_snapshot, p.settings, p.budget, back, SimulatedEffects(p.settings));
  BOOST_TEST_REQUIRE((run.outcome && std::holds_alternative<Done>(*run.outcome)));
  const agent::PlanFacts none;
  agent::PlanSummaryInput in{run.actions, run.outcome, p.budget, p.timeouts, none, {}};
  in.rollback = true;
  const auto s = agent::summarize_plan(in);
  std::vector<StepId> order;
  for (const auto& step : s.steps)
    order.push_back(step.step);
  const std::vector<StepId> expected{StepId::priority, StepId::roll, StepId::prepare};
  BOOST_TEST(order == expected, [&] {
    std::string text;
    for (auto st : order)
      text += std::string(to_string(st)) + " ";
    return text;
  }());
  const auto text = agent::render_plan_summary(s);
  BOOST_TEST(text.starts_with("Rollback plan summary:"), text);
  BOOST_TEST(text.find("Irreversible: nothing (a rollback") != std::string::npos, text);
  BOOST_TEST(any_contains(step_of(s, StepId::prepare).deleted, "bundle multus"));
}

BOOST_AUTO_TEST_CASE(a_halted_plan_says_why) {
  FourNodePlan p;
  const std::optional<RunEnd> halt = Halt{StepId::roll, "gate failed"};
  const agent::PlanFacts none;
  agent::PlanSummaryInput in{p.run.actions, halt, p.budget, p.timeouts, none, {}};
  const auto s = agent::summarize_plan(in);
  BOOST_TEST_REQUIRE(s.halt_reason.has_value());
  BOOST_TEST(agent::render_plan_summary(s).find("gate failed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(pdb_that_allows_no_disruption_is_a_warning) {
  const auto blocking = boost::json::parse(R"({"metadata":{"namespace":"apps","name":"web"},
      "status":{"disruptionsAllowed":0,"expectedPods":3,"currentHealthy":2}})")
                            .as_object();
  const auto open = boost::json::parse(R"({"metadata":{"namespace":"apps","name":"db"},
      "status":{"disruptionsAllowed":1,"expectedPods":3}})")
                        .as_object();
  const auto empty = boost::json::parse(R"({"metadata":{"namespace":"apps","name":"none"},
      "status":{"disruptionsAllowed":0,"expectedPods":0}})")
                         .as_object();
  const auto w = agent::pdb_warning(blocking);
  BOOST_TEST_REQUIRE(w.has_value());
  BOOST_TEST(w->find("apps/web") != std::string::npos);
  BOOST_TEST(!agent::pdb_warning(open).has_value());
  BOOST_TEST(!agent::pdb_warning(empty).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plan_summary_strategy)

// The summary names the strategy and, for cilium-native, the steps it skips;
// its steps are the ones the strategy runs.
BOOST_AUTO_TEST_CASE(cilium_native_plan_names_its_strategy_and_steps) {
  auto settings = MigrationSettings::defaults();
  settings.strategy = config::Strategy::cilium_native;
  test::FixtureOptions o;
  o.nodes = 3;
  const auto cluster = test::make_cluster(settings, o);
  const Budget budget{1, 1};
  const auto run = run_plan(cluster, settings, budget, Selection{}, SimulatedEffects(settings));
  BOOST_TEST_REQUIRE((run.outcome && std::holds_alternative<Done>(*run.outcome)));
  const config::Timeouts timeouts;
  const agent::PlanFacts facts;
  agent::PlanSummaryInput in{run.actions, run.outcome, budget, timeouts, facts, {}};
  in.strategy = settings.strategy;
  const auto s = agent::summarize_plan(in);
  BOOST_TEST((s.strategy == config::Strategy::cilium_native));
  for (const auto& step : s.steps)
    BOOST_TEST((step.step != StepId::roll && step.step != StepId::priority));
  BOOST_TEST(step_of(s, StepId::migrate).nodes_cordoned.size() == 3u);
  BOOST_TEST(any_contains(s.irreversible, "DaemonSet kube-system/canal"));
  const auto text = agent::render_plan_summary(s);
  BOOST_TEST(text.find("Strategy: cilium-native (Cilium's own live migration") != std::string::npos,
             text);
  BOOST_TEST(text.find("roll and priority skipped") != std::string::npos, text);

  FourNodePlan multus;
  BOOST_TEST(
      agent::render_plan_summary(multus.summarize(agent::PlanFacts{})).find("Strategy: multus") !=
      std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
