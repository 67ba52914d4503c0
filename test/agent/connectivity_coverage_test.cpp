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
#include "cnimig/agent/namespace_pods.hpp"

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

// Thirty pods of other namespaces on every node beside its knet-stress pods,
// as in a real cluster, and pods in the knet-stress namespace the check
// must not probe: one no DaemonSet owns, one of another DaemonSet.
void add_other_pods(migrate::ClusterSnapshot& snap) {
  for (auto& [name, node] : snap.nodes) {
    for (int i = 0; i < 30; ++i) {
      migrate::PodState p;
      p.ns = "apps";
      p.name = "app-" + name + "-" + std::to_string(i);
      p.uid = "uid-" + p.name;
      p.owner_kind = "ReplicaSet";
      p.owner_name = "app";
      node.pods.push_back(p);
    }
  }
  auto bare = knet_pod("knet-stress", "node-0");
  bare.name = "bare";
  bare.owner_kind = "";
  snap.nodes.at("node-0").pods.push_back(bare);
  auto other = knet_pod("other", "node-1");
  snap.nodes.at("node-1").pods.push_back(other);
}

std::size_t pod_count(const migrate::ClusterSnapshot& snap) {
  std::size_t n = 0;
  for (const auto& [name, node] : snap.nodes)
    n += node.pods.size();
  return n;
}

bool same_targets(const std::vector<probe::ProbeTarget>& a,
                  const std::vector<probe::ProbeTarget>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.namespace_ == y.namespace_ && x.pod == y.pod && x.node == y.node;
  });
}

struct CheckRun {
  std::optional<migrate::CheckResult> result;
  std::size_t probes = 0;
  std::vector<std::string> events;  // names, in order
  std::size_t pods_examined = 0;
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
// `indexed`: the executor selects from an index of the knet-stress pods
// kept in step with the snapshot (as ClusterCache keeps it), rebuilt after
// `meanwhile`.
CheckRun run_check(migrate::ClusterSnapshot snap, std::chrono::milliseconds retry_for = 0ms,
                   const std::function<void(migrate::ClusterSnapshot&)>& meanwhile = {},
                   bool indexed = false) {
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
  auto index = agent::NamespacePods::of(snap, kNamespace);
  if (indexed)
    executor.select_from(index);
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
      index = agent::NamespacePods::of(snap, kNamespace);
      changes.notify();
    });
  }
  io.run_for(10s);
  BOOST_TEST_REQUIRE(done);
  run.result = record.last_check;
  run.probes = prober.calls;
  run.pods_examined = executor.pods_examined();
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

// The index of the knet-stress namespace yields what the walk of every pod
// (the first algorithm, kept as the reference) yields: the same targets in
// the same order, the same count wanted, the same reason for falling short,
// whole or not, having looked at the namespace's pods alone.
BOOST_AUTO_TEST_CASE(index_selects_what_the_walk_of_every_pod_selects) {
  auto snap = whole_cluster();
  add_other_pods(snap);
  migrate::RunRecord run;
  const auto compare = [&](const std::string& label) {
    BOOST_TEST_CONTEXT(label) {
      const auto walked = agent::select_probe_targets(snap, run, kNamespace, kDaemonSets);
      const auto index = agent::NamespacePods::of(snap, kNamespace);
      const auto read = agent::select_probe_targets(snap, index, run, kDaemonSets, true);
      BOOST_TEST(same_targets(read.targets, walked.targets));
      BOOST_TEST(read.expected == walked.expected);
      BOOST_TEST(read.missing == walked.missing);
      BOOST_TEST(walked.pods_examined == pod_count(snap));
      std::size_t namespace_pods = 0;
      for (const auto& [node, pods] : index.by_node())
        namespace_pods += pods.size();
      BOOST_TEST(read.pods_examined == namespace_pods);
      BOOST_TEST(read.pods_examined < walked.pods_examined / 10);
      // What a waiting check asks for: the targets only when whole.
      const auto counted = agent::select_probe_targets(snap, index, run, kDaemonSets, false);
      BOOST_TEST(counted.expected == walked.expected);
      BOOST_TEST(counted.missing == walked.missing);
      if (walked.missing.empty()) {
        BOOST_TEST(same_targets(counted.targets, walked.targets));
        BOOST_TEST(counted.pods_examined == 2 * namespace_pods);  // counted, then listed
      } else {
        BOOST_TEST(counted.targets.empty());
        BOOST_TEST(counted.pods_examined == namespace_pods);
      }
    }
  };
  compare("whole");
  drop_pod(snap, "node-3", "knet-stress-2");
  pod_of(snap, "node-1", "knet-stress").ready = false;
  pod_of(snap, "node-2", "knet-stress").terminating = true;
  run.removed_pods.emplace(pod_of(snap, "node-0", "knet-stress-2").uid, "node-0");
  compare("partial");
  snap.workloads.erase({migrate::kDaemonSet, kNamespace, "knet-stress-2"});
  compare("a DaemonSet absent");
}

// The cache's index: a pod that changes stays where it was in its node's
// list, a new one goes last, a removed one leaves the others' order, and a
// node that goes takes its pods along; other namespaces are not kept.
BOOST_AUTO_TEST_CASE(namespace_pods_follow_the_pod_lists_edits) {
  agent::NamespacePods index(kNamespace);
  auto a = knet_pod("knet-stress", "node-0");
  auto b = knet_pod("knet-stress-2", "node-0");
  auto app = knet_pod("knet-stress", "node-0");
  app.ns = "apps";
  index.upsert("node-0", a);
  index.upsert("node-0", app);
  index.upsert("node-0", b);
  a.ready = false;
  index.upsert("node-0", a);
  BOOST_TEST_REQUIRE(index.by_node().at("node-0").size() == 2u);
  BOOST_TEST((index.by_node().at("node-0")[0] == a));
  BOOST_TEST((index.by_node().at("node-0")[1] == b));
  index.remove("node-0", "apps", a.name);  // another namespace: not this pod
  BOOST_TEST(index.by_node().at("node-0").size() == 2u);
  index.remove("node-0", kNamespace, a.name);
  BOOST_TEST_REQUIRE(index.by_node().at("node-0").size() == 1u);
  BOOST_TEST((index.by_node().at("node-0")[0] == b));
  index.upsert("node-1", knet_pod("knet-stress", "node-1"));
  index.remove_node("node-0");
  BOOST_TEST(index.by_node().size() == 1u);
  BOOST_TEST(index.by_node().contains("node-1"));
}

// While a check waits for a pod being re-created, each change it wakes on
// re-selects its targets: from the index, that looks at the knet-stress
// namespace's pods (9 at the first look, counted; 10 once the pod is back,
// counted and then listed), never at the thirty other pods of each node.
BOOST_AUTO_TEST_CASE(waiting_check_reads_the_index_not_every_pod) {
  auto snap = whole_cluster();
  add_other_pods(snap);
  drop_pod(snap, "node-3", "knet-stress");
  const auto recreate = [](migrate::ClusterSnapshot& s) {
    s.nodes.at("node-3").pods.push_back(knet_pod("knet-stress", "node-3"));
  };
  const auto indexed = run_check(snap, 60s, recreate, true);
  BOOST_TEST_REQUIRE(indexed.result.has_value());
  BOOST_TEST(indexed.result->passed);
  BOOST_TEST(indexed.probes == 8u);
  // The knet-stress namespace also holds a bare pod and another DaemonSet's.
  BOOST_TEST(indexed.pods_examined == (7u + 2u) + 2 * (8u + 2u));
  // The walk of every pod, for contrast: the same outcome at the cost of
  // the whole cluster on each look.
  const auto walked = run_check(snap, 60s, recreate, false);
  BOOST_TEST(walked.probes == 8u);
  BOOST_TEST(walked.pods_examined == 2 * pod_count(snap) + 1);
}

BOOST_AUTO_TEST_SUITE_END()
