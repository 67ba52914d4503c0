#include "polling_migrator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/agent/kube_pod_executor.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/migration_inputs.hpp"
#include "cnimig/agent/snapshot_projection.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/kube/informer.hpp"
#include "cnimig/migrate/planner.hpp"
#include "cnimig/wire/object_key.hpp"

namespace cnimig::bench {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct NullSink final : events::EventSink {
  void emit(const events::Event&) override {}
};

struct Poller {
  Poller(const config::Config& c, kube::Client& k, std::chrono::milliseconds i,
         std::chrono::milliseconds l)
      : config(c), client(k), interval(i), limit(l) {}
  const config::Config& config;
  kube::Client& client;
  std::chrono::milliseconds interval;
  std::chrono::milliseconds limit;
  migrate::MigrationSettings settings = agent::migration_settings(config);
  std::map<std::string, agent::ManifestBundle> bundles;
  std::set<migrate::ObjectRef> interesting;
  migrate::ClusterSnapshot snap;
  migrate::RunRecord record;  // the driver's side: kept across re-lists
  PollingResult result;

  // One full re-list of everything the core reads, into `snap`.
  asio::awaitable<Result<void>> relist() {
    snap.nodes.clear();
    snap.unscheduled_pods.clear();
    snap.workloads.clear();
    const auto nodes_path = kube::ResourcePath::core("nodes");
    auto nodes = co_await client.list(nodes_path, kube::ListOptions());
    if (!nodes)
      co_return nodes.error();
    for (const auto& n : nodes->items) {
      auto state = agent::project_node(n, settings.annotation_prefix);
      auto name = state.name;
      snap.nodes[name] = std::move(state);
    }
    const auto pods_path = kube::ResourcePath::core("pods");
    auto pods = co_await client.list(pods_path, kube::ListOptions());
    if (!pods)
      co_return pods.error();
    for (const auto& p : pods->items) {
      const auto node = agent::pod_node_name(p);
      if (node.empty())
        snap.unscheduled_pods.push_back(agent::project_pod(p));
      else
        snap.nodes[node].pods.push_back(agent::project_pod(p));
    }
    const std::vector<std::pair<const char*, const char*>> kinds = {
        {migrate::kDaemonSet, "daemonsets"},
        {migrate::kDeployment, "deployments"},
        {migrate::kStatefulSet, "statefulsets"}};
    for (const auto& [kind, plural] : kinds) {
      const auto path = kube::ResourcePath::of("apps", "v1", plural);
      auto list = co_await client.list(path, kube::ListOptions());
      if (!list)
        co_return list.error();
      for (const auto& o : list->items) {
        const auto key = wire::object_key(o);
        const auto slash = key.find('/');
        migrate::ObjectRef ref{kind, key.substr(0, slash), key.substr(slash + 1)};
        if (interesting.contains(ref))
          snap.workloads[ref] = agent::project_workload(kind, o);
      }
    }
    agent::detect_applied_bundles(snap, bundles);
    co_return Result<void>{};
  }

  asio::awaitable<void> run() {
    const auto rewrite = agent::LabelRewrite::from(config.labels);
    // Every bundle the configuration names, node-cleanup too (cleanup
    // applies it when cleanup.nodeLeftovers is on), as the agent loads them.
    const auto files = config.paths.bundles();
    for (const auto& [id, path] : files) {
      auto bundle = agent::ManifestBundle::load(id, path, rewrite);
      if (!bundle) {
        result.reason = bundle.error().message;
        co_return;
      }
      bundles.emplace(id, std::move(*bundle));
    }
    interesting = agent::workloads_of_interest(settings, bundles);

    NullSink sink;
    agent::KubePodExecutor prober(client);
    agent::ExecutorSettings exec_settings;
    exec_settings.timeouts = config.timeouts;
    exec_settings.check.command = config.connectivity.command;
    exec_settings.check.parallelism = config.connectivity.parallelism;
    exec_settings.check.probe_timeout = config.timeouts.probe;
    exec_settings.knet_stress_namespace = config.connectivity.namespace_;
    exec_settings.knet_stress_daemonsets = config.connectivity.daemonsets;
    agent::ActionExecutor executor(client, snap, bundles, exec_settings, sink, prober);
    executor.on_outcome([this](const agent::ActionOutcome& o) { agent::fold(record, o, snap); });
    migrate::Budget budget;
    budget.max_parallel_nodes = config.parallelism.max_parallel_nodes;
    migrate::Selection selection;

    const auto started = Clock::now();
    asio::steady_timer timer(client.get_executor());
    for (;;) {
      if (Clock::now() - started > limit) {
        result.reason = "did not finish within the limit";
        co_return;
      }
      ++result.polls;
      if (auto listed = co_await relist(); !listed) {
        result.reason = listed.error().describe();
        co_return;
      }
      budget.max_unavailable = config.parallelism.max_unavailable.resolve(snap.nodes.size());
      agent::forget_gone_pods(record, snap);
      record.now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
      const auto decision = migrate::next_actions(snap, record, settings, budget, selection);
      if (decision.finished()) {
        result.completed = true;
        result.makespan =
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        co_return;
      }
      if (decision.halted()) {
        result.reason = *decision.halt_reason();
        co_return;
      }
      // What a script does: each action in turn, then sleep.
      for (const auto& action : decision.actions()) {
        if (migrate::is_write(action))
          migrate::note_write(record, action);
        auto r = co_await executor.execute(action, record);
        if (!r) {
          record.failures.push_back(
              {action.node, migrate::describe(action) + ": " + r.error().describe()});
          break;
        }
      }
      timer.expires_after(interval);
      co_await timer.async_wait(asio::use_awaitable);
    }
  }
};

}  // namespace

PollingResult run_polling_migrator(const config::Config& config,
                                   const std::filesystem::path& kubeconfig,
                                   std::chrono::milliseconds interval,
                                   std::chrono::milliseconds limit) {
  kube::LoadOptions load;
  load.kubeconfig = kubeconfig;
  auto client_config = kube::load_client_config(load);
  if (!client_config)
    return {false, client_config.error().message, 0, {}};
  asio::io_context io;
  auto client = kube::Client::create(io.get_executor(), std::move(*client_config));
  if (!client)
    return {false, client.error().message, 0, {}};
  Poller poller(config, **client, interval, limit);
  asio::co_spawn(io, poller.run(), [](std::exception_ptr e) {
    if (e)
      std::rethrow_exception(e);
  });
  io.run();
  return poller.result;
}

}  // namespace cnimig::bench
