// A connectivity check proves the whole cluster or nothing: it passes only
// when the Ready, non-terminating knet-stress pods it probes are as many as
// the knet-stress DaemonSets want (status.desiredNumberScheduled). A pod not
// yet created on a node, or not Ready there, must fail the round even though
// every pod that was probed reaches its peers.

#include <algorithm>
#include <functional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/agent/change_signal.hpp"

namespace asio = boost::asio;
using namespace cnimig;
using namespace std::chrono_literals;

namespace {

const std::string kNamespace = "knet-stress";
const std::vector<std::string> kDaemonSets = {"knet-stress", "knet-stress-2"};

// Every pod it is asked about reaches all its peers.
class PassingProber : public probe::PodExecutor {
 public:
  std::size_t calls = 0;
  asio::awaitable<Result<probe::ExecOutcome>> exec(const probe::ProbeTarget&,
                                                   const std::vector<std::string>&,
                                                   std::chrono::milliseconds) override {
    ++calls;
    co_return probe::ExecOutcome{0, "ok", ""};
  }
};

migrate::PodState knet_pod(const std::string& ds, const std::string& node) {
  migrate::PodState p;
  p.ns = kNamespace;
  p.name = ds + "-" + node;
  p.uid = "uid-" + p.name;
  p.owner_kind = migrate::kDaemonSet;
  p.owner_name = ds;
  return p;
}

// Four nodes; both DaemonSets want a pod on each, and their status looks
// ready. Every pod is there and Ready unless a test takes one away.
migrate::ClusterSnapshot whole_cluster() {
  migrate::ClusterSnapshot snap;
  for (const auto& ds : kDaemonSets) {
    auto& w = snap.workloads[{migrate::kDaemonSet, kNamespace, ds}];
    w.exists = true;
    w.ready = true;
    w.desired = 4;
  }
  for (int i = 0; i < 4; ++i) {
    const auto node = "node-" + std::to_string(i);
    snap.nodes[node].name = node;
    for (const auto& ds : kDaemonSets)
      snap.nodes[node].pods.push_back(knet_pod(ds, node));
  }
  return snap;
}

void drop_pod(migrate::ClusterSnapshot& snap, const std::string& node, const std::string& ds) {
  std::erase_if(snap.nodes.at(node).pods,
                [&](const migrate::PodState& p) { return p.owner_name == ds; });
}

migrate::PodState& pod_of(migrate::ClusterSnapshot& snap, const std::string& node,
                          const std::string& ds) {
  for (auto& p : snap.nodes.at(node).pods) {
    if (p.owner_name == ds)
      return p;
  }
  throw std::logic_error("no pod of " + ds + " on " + node);
}

struct CheckRun {
  std::optional<migrate::CheckResult> result;
  std::size_t probes = 0;
  std::vector<std::string> events;  // names, in order
};

class EventNames final : public events::EventSink {
 public:
  explicit EventNames(std::vector<std::string>& out) : out_(out) {}
  void emit(const events::Event& e) override { out_.emplace_back(e.name()); }

 private:
  std::vector<std::string>& out_;
};

// Runs one RunConnectivityCheck through the executor. With no retry time
// (`retry_for` 0) the first round's outcome is the check's. `meanwhile`, if
// set, runs on the same io_context once the check has had its first look,
// then the snapshot's change signal fires: what a watch event does.
CheckRun run_check(migrate::ClusterSnapshot snap, std::chrono::milliseconds retry_for = 0ms,
                   const std::function<void(migrate::ClusterSnapshot&)>& meanwhile = {}) {
  asio::io_context io;
  kube::ClientConfig config;
  config.server = "https://127.0.0.1:1";  // never contacted: a check only execs
  config.token = "unused";
  auto client = kube::Client::create(io.get_executor(), std::move(config));
  BOOST_TEST_REQUIRE(client.has_value());
  agent::ExecutorSettings settings;
  settings.timeouts.connectivity = retry_for;
  settings.knet_stress_namespace = kNamespace;
  settings.knet_stress_daemonsets = kDaemonSets;
  CheckRun run;
  EventNames sink(run.events);
  PassingProber prober;
  const std::map<std::string, agent::ManifestBundle> bundles;
  agent::ActionExecutor executor(**client, snap, bundles, settings, sink, prober);
  agent::ChangeSignal changes(io.get_executor());
  executor.on_snapshot_changes(changes);
  migrate::RunRecord record;
  executor.on_outcome([&](const agent::ActionOutcome& o) { agent::fold(record, o, snap); });
  const migrate::Action check{migrate::StepId::roll, "", migrate::RunConnectivityCheck{}};
  bool done = false;
  asio::co_spawn(io, executor.execute(check, record), [&](std::exception_ptr e, Result<void> r) {
    if (e)
      std::rethrow_exception(e);
    BOOST_TEST(r.has_value());
    done = true;
  });
  if (meanwhile) {
    asio::post(io, [&] {
      BOOST_TEST(!done);
      BOOST_TEST(prober.calls == 0u);
      meanwhile(snap);
      changes.notify();
    });
  }
  io.run_for(10s);
  BOOST_TEST_REQUIRE(done);
  run.result = record.last_check;
  run.probes = prober.calls;
  return run;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connectivity_coverage)

BOOST_AUTO_TEST_CASE(selection_counts_ready_pods_against_desired) {
  auto snap = whole_cluster();
  auto all = agent::select_probe_targets(snap, migrate::RunRecord{}, kNamespace, kDaemonSets);
  BOOST_TEST(all.targets.size() == 8u);
  BOOST_TEST(all.expected == 8);
  BOOST_TEST(all.missing.empty(), all.missing);

  drop_pod(snap, "node-3", "knet-stress-2");            // not yet created there
  pod_of(snap, "node-1", "knet-stress").ready = false;  // created, not Ready
  pod_of(snap, "node-2", "knet-stress").terminating = true;
  auto partial = agent::select_probe_targets(snap, migrate::RunRecord{}, kNamespace, kDaemonSets);
  BOOST_TEST(partial.targets.size() == 5u);
  BOOST_TEST(partial.missing == "5/8 knet-stress pods present and Ready");
  for (const auto& t : partial.targets)
    BOOST_TEST(!(t.node == "node-1" && t.pod == "knet-stress-node-1"));
}

BOOST_AUTO_TEST_CASE(absent_daemon_set_is_named) {
  auto snap = whole_cluster();
  snap.workloads.erase({migrate::kDaemonSet, kNamespace, "knet-stress-2"});
  for (int i = 0; i < 4; ++i)
    drop_pod(snap, "node-" + std::to_string(i), "knet-stress-2");
  auto s = agent::select_probe_targets(snap, migrate::RunRecord{}, kNamespace, kDaemonSets);
  BOOST_TEST(s.targets.size() == 4u);
  BOOST_TEST(s.missing == "DaemonSet knet-stress/knet-stress-2 absent");
}

BOOST_AUTO_TEST_CASE(check_passes_over_the_whole_cluster) {
  const auto run = run_check(whole_cluster());
  BOOST_TEST_REQUIRE(run.result.has_value());
  BOOST_TEST(run.result->passed);
  BOOST_TEST(run.probes == 8u);
}

BOOST_AUTO_TEST_CASE(check_over_a_missing_pod_fails) {
  auto snap = whole_cluster();
  drop_pod(snap, "node-3", "knet-stress");
  const auto run = run_check(snap);
  BOOST_TEST_REQUIRE(run.result.has_value());
  BOOST_TEST(!run.result->passed);
  BOOST_TEST(run.result->detail == "7/8 knet-stress pods present and Ready");
}

BOOST_AUTO_TEST_CASE(check_over_an_unready_pod_fails) {
  auto snap = whole_cluster();
  pod_of(snap, "node-0", "knet-stress-2").ready = false;
  const auto run = run_check(snap);
  BOOST_TEST_REQUIRE(run.result.has_value());
  BOOST_TEST(!run.result->passed);
  BOOST_TEST(run.result->detail == "7/8 knet-stress pods present and Ready");
}

// A sampled check execs the pods on the nodes it names and on `sample`
// others, drawn at random; the selection it narrows was whole.
BOOST_AUTO_TEST_CASE(sampled_check_narrows_the_execs) {
  auto selection =
      agent::select_probe_targets(whole_cluster(), migrate::RunRecord{}, kNamespace, kDaemonSets);
  BOOST_TEST_REQUIRE(selection.missing.empty());
  std::mt19937_64 rng(7);
  const migrate::RunConnectivityCheck check{{"node-2"}, 1};
  const auto nodes = agent::narrow_probe_targets(selection, check, rng);
  BOOST_TEST_REQUIRE(nodes.size() == 2u);
  BOOST_TEST(std::count(nodes.begin(), nodes.end(), "node-2") == 1);
  BOOST_TEST(selection.targets.size() == 4u);  // two DaemonSets' pods on two nodes
  for (const auto& t : selection.targets)
    BOOST_TEST((t.node == nodes[0] || t.node == nodes[1]));
  // More to sample than there are other nodes: every node.
  auto all =
      agent::select_probe_targets(whole_cluster(), migrate::RunRecord{}, kNamespace, kDaemonSets);
  BOOST_TEST(agent::narrow_probe_targets(all, {{"node-0"}, 10}, rng).size() == 4u);
  BOOST_TEST(all.targets.size() == 8u);
}

// A pod being re-created (a node in flight beside the one whose gate asked
// for the check) is waited for on the snapshot's change signal: the check
// passes once the watch shows the pod, with no failed round and no backoff.
BOOST_AUTO_TEST_CASE(check_waits_for_a_pod_being_recreated) {
  auto snap = whole_cluster();
  drop_pod(snap, "node-3", "knet-stress");
  const auto run = run_check(snap, 60s, [](migrate::ClusterSnapshot& s) {
    s.nodes.at("node-3").pods.push_back(knet_pod("knet-stress", "node-3"));
  });
  BOOST_TEST_REQUIRE(run.result.has_value());
  BOOST_TEST(run.result->passed);
  BOOST_TEST(run.probes == 8u);
  BOOST_TEST(std::count(run.events.begin(), run.events.end(), "probe.failed") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
