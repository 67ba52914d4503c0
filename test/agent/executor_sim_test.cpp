// The driver's side of "one delete per pod" against an in-process cnimig-sim
// over HTTPS: the client learns the server's clock from its Date headers, and
// a pod whose deletion the API accepted counts as removed (so the core, which
// never removes a pod in RunRecord::removed_pods, does not delete it again)
// until the watch shows it gone, and no longer after. The executor reports
// the removal; the record it is folded into is the driver's. The cache
// reports the pod's node as touched, and a NodeIndex kept with what it
// reports equals one derived fresh.

#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/agent/action_outcome.hpp"
#include "cnimig/agent/cluster_cache.hpp"
#include "cnimig/agent/kube_pod_executor.hpp"
#include "cnimig/events/json_lines_writer.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/migrate/node_index.hpp"
#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulator.hpp"
#include "cnimig/wire/object_fields.hpp"

#include "simulator_client.hpp"

namespace asio = boost::asio;
using namespace cnimig;
using namespace std::chrono_literals;

namespace {

struct Outcome {
  bool synced = false;
  bool clock_known = false;
  std::int64_t clock_error_ms = 0;
  std::string pod;
  bool deleted = false;
  bool guarded_after_delete = false;  // in removed_pods, or already gone
  bool gone = false;
  bool uid_forgotten = false;
  bool first_touch_all = false;
  bool node_touched = false;
  bool index_current = false;
  // The cache's index of namespace "apps" (where the simulator's workloads
  // run) equals the snapshot's pods of it, after sync and after a deletion.
  bool namespace_index_filled = false;
  bool namespace_index_synced = false;
  bool namespace_index_current = false;
};

const migrate::PodState* find_uid(const migrate::ClusterSnapshot& snap, const std::string& uid) {
  for (const auto& [name, node] : snap.nodes) {
    for (const auto& p : node.pods) {
      if (p.uid == uid)
        return &p;
    }
  }
  return nullptr;
}

asio::awaitable<void> scenario(kube::Client& client, agent::ClusterCache& cache, Outcome& out) {
  out.synced = (co_await cache.wait_synced(20s)).has_value();
  if (!out.synced) {
    cache.stop();
    co_return;
  }
  const auto& clock = client.server_clock();
  out.clock_known = clock.known();
  if (auto t = clock.earliest(std::chrono::steady_clock::now())) {
    // Same machine: the server's clock is ours, give or take a second.
    out.clock_error_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now() - *t)
            .count();
  }
  const auto& snap = cache.snapshot();
  out.namespace_index_filled = !cache.namespace_pods().by_node().empty();
  out.namespace_index_synced = cache.namespace_pods() == agent::NamespacePods::of(snap, "apps");
  const auto settings = migrate::MigrationSettings::defaults();
  // Everything at first: nothing was derived yet.
  out.first_touch_all = cache.take_touched_nodes().all;
  migrate::NodeIndex kept;
  kept.refresh(snap, settings);
  std::string node;
  migrate::DeletePod target;
  for (const auto& [name, n] : snap.nodes) {
    for (const auto& p : n.pods) {
      if (target.name.empty() && !p.host_network && !p.uid.empty() && !p.terminating) {
        node = name;
        target = migrate::DeletePod{p.ns, p.name, p.uid, false};
      }
    }
  }
  out.pod = target.ns + "/" + target.name;
  if (target.name.empty()) {
    cache.stop();
    co_return;
  }
  events::JsonLinesWriter sink(stderr);
  agent::KubePodExecutor prober(client);
  const std::map<std::string, agent::ManifestBundle> bundles;
  agent::ActionExecutor executor(client, snap, bundles, agent::ExecutorSettings(), sink, prober);
  // Folded as the driver folds them.
  migrate::RunRecord record;
  executor.on_outcome([&](const agent::ActionOutcome& o) { agent::fold(record, o, snap); });
  const migrate::Action action{migrate::StepId::roll, node, target};
  auto result = co_await executor.execute(action, record);
  out.deleted = result.has_value();
  out.guarded_after_delete =
      record.removed_pods.contains(target.uid) || find_uid(snap, target.uid) == nullptr;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (find_uid(snap, target.uid) != nullptr && std::chrono::steady_clock::now() < deadline) {
    const auto seen = cache.changes().version();
    co_await cache.changes().wait(seen, deadline);
  }
  out.gone = find_uid(snap, target.uid) == nullptr;
  const auto touched = cache.take_touched_nodes();
  out.node_touched = !touched.all && touched.nodes.contains(node);
  kept.touch(touched);
  kept.refresh(snap, settings);
  migrate::NodeIndex fresh;
  fresh.refresh(snap, settings);
  out.index_current = kept == fresh;
  out.namespace_index_current = cache.namespace_pods() == agent::NamespacePods::of(snap, "apps");
  agent::forget_gone_pods(record, snap);  // what the driver does before each decision
  out.uid_forgotten = !record.removed_pods.contains(target.uid);
  cache.stop();
}

struct TombstoneOutcome {
  bool synced = false;
  bool seen = false;
  bool gone = false;
  bool stale_answer_ignored = false;
  bool ghost_removed_by_404 = false;
  bool recreated = false;
};

asio::awaitable<bool> wait_until(agent::ClusterCache& cache, std::function<bool()> pred) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    const auto seen = cache.changes().version();
    co_await cache.changes().wait(seen, deadline);
  }
  co_return pred();
}

// The answer to a write that the server gave before a deletion may reach the
// cache after the watch showed the deletion (under API faults a cleanup then
// deleted the node-cleanup DaemonSet again and again, the cache holding it
// for ever): it must not bring the object back, while a new object of that
// name does come back.
asio::awaitable<void> stale_answer_after_deletion(kube::Client& client, agent::ClusterCache& cache,
                                                  TombstoneOutcome& out) {
  out.synced = (co_await cache.wait_synced(20s)).has_value();
  const migrate::ObjectRef ref{migrate::kDaemonSet, "kube-system", "kube-proxy"};
  const auto collection = kube::ResourcePath::of("apps", "v1", "daemonsets").in("kube-system");
  const auto path = collection.named("kube-proxy");
  const auto exists = [&] { return cache.snapshot().exists(ref); };
  // Named options: GCC 12 destroys a temporary coroutine argument twice
  // (see kube/client.hpp).
  const kube::RequestOptions read;
  auto answer = co_await client.get(path, read);
  out.seen = out.synced && answer && exists();
  if (!out.seen) {
    cache.stop();
    co_return;
  }
  const kube::DeleteOptions remove;
  auto removed = co_await client.remove(path, remove);
  out.gone = removed && co_await wait_until(cache, [&] { return !exists(); });
  cache.apply_written(migrate::kDaemonSet, *answer);
  out.stale_answer_ignored = !exists();
  // A watch that missed a deletion (the cache shows a version newer than
  // anything the watch will bring): deleting the object again is answered
  // 404, which the executor tells the cache, and the object leaves it.
  // (The version the deletion's answer carries: what a watch event of the
  // object's last moment would.)
  auto ghost = *answer;
  if (removed)
    ghost.at("metadata").as_object()["resourceVersion"] = wire::resource_version(*removed);
  cache.apply_written(migrate::kDaemonSet, ghost);
  const bool ghost_shown = exists();
  events::JsonLinesWriter sink(stderr);
  agent::KubePodExecutor prober(client);
  const std::map<std::string, agent::ManifestBundle> bundles;
  agent::ActionExecutor executor(client, cache.snapshot(), bundles, agent::ExecutorSettings(), sink,
                                 prober);
  executor.on_written([&](std::string_view kind, const boost::json::object& object) {
    cache.apply_written(kind, object);
  });
  const migrate::RunRecord record;
  const migrate::Action delete_again{migrate::StepId::cleanup, "", migrate::DeleteObject{ref}};
  auto deleted_again = co_await executor.execute(delete_again, record);
  out.ghost_removed_by_404 = ghost_shown && deleted_again.has_value() && !exists();
  auto body = *answer;
  auto& meta = body.at("metadata").as_object();
  for (const char* field : {"resourceVersion", "uid", "creationTimestamp", "generation"})
    meta.erase(field);
  body.erase("status");
  const kube::WriteOptions write;
  auto created = co_await client.create(collection, body, write);
  out.recreated = created && co_await wait_until(cache, exists);
  cache.stop();
}

struct OrderOutcome {
  bool synced = false;
  bool listed_unknown = false;  // pods from the list: creation version unknown
  bool unordered_without_promise = false;
  bool ordered = false;
  std::uint64_t pod_version = 0;
  std::uint64_t replacement_version = 0;
  bool replacement_ready = false;
};

const migrate::PodState* find_pod(const migrate::ClusterSnapshot& snap,
                                  const std::function<bool(const migrate::PodState&)>& pred) {
  for (const auto& [name, node] : snap.nodes) {
    for (const auto& p : node.pods) {
      if (pred(p))
        return &p;
    }
  }
  return nullptr;
}

// A cut-off written with order_cutoffs is placed in the pods' order (a list
// read after the write), and a pod created after it, shown by the watch
// being added, then bound and Ready, keeps a larger creation version: what
// lets the core tell it from the pods it replaces within one second.
asio::awaitable<void> cutoff_order(kube::Client& client, agent::ClusterCache& cache,
                                   OrderOutcome& out) {
  out.synced = (co_await cache.wait_synced(20s)).has_value();
  const auto& snap = cache.snapshot();
  const auto* victim = find_pod(snap, [](const migrate::PodState& p) {
    return p.owner_kind == "ReplicaSet" && !p.host_network && !p.terminating;
  });
  if (!out.synced || victim == nullptr) {
    cache.stop();
    co_return;
  }
  out.listed_unknown = victim->created_version == 0;
  std::set<std::string> before;
  for (const auto& [name, node] : snap.nodes) {
    for (const auto& p : node.pods)
      before.insert(p.uid);
  }
  const std::string node = snap.nodes.begin()->first;
  const std::string key = "cnimig.io/roll-pods-before";
  events::JsonLinesWriter sink(stderr);
  agent::KubePodExecutor prober(client);
  const std::map<std::string, agent::ManifestBundle> bundles;
  const migrate::RunRecord record;
  std::optional<agent::CutoffOrdered> reported;
  const auto write = [&](agent::ExecutorSettings settings,
                         std::string value) -> asio::awaitable<Result<void>> {
    agent::ActionExecutor executor(client, snap, bundles, std::move(settings), sink, prober);
    executor.on_written([&](std::string_view kind, const boost::json::object& object) {
      cache.apply_written(kind, object);
    });
    executor.on_outcome([&](const agent::ActionOutcome& o) {
      if (const auto* c = std::get_if<agent::CutoffOrdered>(&o)) {
        reported = *c;
        cache.note_cutoff_order(c->node, c->annotation, c->order);
      }
    });
    const migrate::Action action{migrate::StepId::roll, node,
                                 migrate::AnnotateNode{node, {{key, value}}, {}, key}};
    co_return co_await executor.execute(action, record);
  };
  agent::ExecutorSettings no_promise;  // a server before Kubernetes 1.35
  // Named arguments: GCC 12 destroys a temporary coroutine argument twice.
  std::string first = "100";
  auto r = co_await write(no_promise, first);
  out.unordered_without_promise = r && !reported && snap.nodes.at(node).cutoff_orders.empty();
  agent::ExecutorSettings promise;
  promise.order_cutoffs = true;
  std::string second = "200";
  r = co_await write(promise, second);
  const auto& orders = snap.nodes.at(node).cutoff_orders;
  out.ordered = r && reported && orders.contains(key) && orders.at(key).value == "200" &&
                orders.at(key).pod_version == reported->order.pod_version;
  out.pod_version = reported ? reported->order.pod_version : 0;

  const kube::DeleteOptions remove;
  const auto path = kube::ResourcePath::core("pods").in(victim->ns).named(victim->name);
  const auto ns = victim->ns;
  co_await client.remove(path, remove);
  const auto replacement = [&]() {
    return find_pod(snap, [&](const migrate::PodState& p) {
      return p.ns == ns && p.owner_kind == "ReplicaSet" && !before.contains(p.uid) && p.ready;
    });
  };
  out.replacement_ready = co_await wait_until(cache, [&] { return replacement() != nullptr; });
  if (const auto* p = replacement())
    out.replacement_version = p->created_version;
  cache.stop();
}

// An in-process cnimig-sim of two nodes (`pods_per_node` application pods
// each, --time-scale 0.05) and a watch cache on it; run() drives a scenario
// beside the cache's watches for at most 60 s.
struct CacheAgainstSimulator {
  static sim::SimulatorOptions options(std::size_t pods_per_node) {
    sim::SimulatorOptions o;
    o.nodes = 2;
    o.pods_per_node = pods_per_node;
    o.time_scale = 0.05;
    return o;
  }
  CacheAgainstSimulator(std::size_t pods_per_node, std::set<migrate::ObjectRef> workloads = {})
      : simulator(options(pods_per_node), sim::cluster_model_factory()),
        connected(simulator, io),
        cache(*connected.client, "cnimig.io/", std::move(workloads)) {}

  void run(asio::awaitable<void> scenario) {
    asio::co_spawn(io, cache.run(),
                   [this](std::exception_ptr, Result<void>) { cache_ended = true; });
    asio::co_spawn(io, std::move(scenario), [](std::exception_ptr e) {
      if (e)
        std::rethrow_exception(e);
    });
    io.run_for(60s);
    simulator.stop();
  }

  sim::Simulator simulator;
  asio::io_context io;
  test::SimulatorClient connected;
  agent::ClusterCache cache;
  bool cache_ended = false;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(executor_against_the_simulator)

BOOST_AUTO_TEST_CASE(an_answer_older_than_a_deletion_does_not_bring_the_object_back) {
  CacheAgainstSimulator h(0,
                          {migrate::ObjectRef{migrate::kDaemonSet, "kube-system", "kube-proxy"}});
  TombstoneOutcome out;
  h.run(stale_answer_after_deletion(*h.connected.client, h.cache, out));
  BOOST_TEST_REQUIRE(out.seen);
  BOOST_TEST(out.gone);
  BOOST_TEST(out.stale_answer_ignored);
  BOOST_TEST(out.ghost_removed_by_404);
  BOOST_TEST(out.recreated);
}

BOOST_AUTO_TEST_CASE(server_clock_and_removed_pods) {
  CacheAgainstSimulator h(2);
  h.cache.index_namespace("apps");
  Outcome out;
  h.run(scenario(*h.connected.client, h.cache, out));

  BOOST_TEST(h.cache_ended);
  BOOST_TEST_REQUIRE(out.synced);
  BOOST_TEST(out.clock_known);
  BOOST_TEST(std::abs(out.clock_error_ms) < 2500, out.clock_error_ms);
  BOOST_TEST_REQUIRE(!out.pod.empty());
  BOOST_TEST(out.deleted, out.pod);
  BOOST_TEST(out.guarded_after_delete);
  BOOST_TEST(out.gone);
  BOOST_TEST(out.uid_forgotten);
  BOOST_TEST(out.first_touch_all);
  BOOST_TEST(out.node_touched);
  BOOST_TEST(out.index_current);
  BOOST_TEST(out.namespace_index_filled);
  BOOST_TEST(out.namespace_index_synced);
  BOOST_TEST(out.namespace_index_current);
}

BOOST_AUTO_TEST_CASE(a_cutoff_is_placed_in_the_pods_order) {
  CacheAgainstSimulator h(2);
  OrderOutcome out;
  h.run(cutoff_order(*h.connected.client, h.cache, out));
  BOOST_TEST_REQUIRE(out.synced);
  BOOST_TEST(out.listed_unknown);
  BOOST_TEST(out.unordered_without_promise);
  BOOST_TEST(out.ordered);
  BOOST_TEST_REQUIRE(out.replacement_ready);
  BOOST_TEST(out.pod_version > 0u);
  BOOST_TEST(out.replacement_version > out.pod_version);
}

BOOST_AUTO_TEST_SUITE_END()
