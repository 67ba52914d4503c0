#include "cnimig/agent/agent_run.hpp"

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/agent/cluster_cache.hpp"
#include "cnimig/agent/kube_pod_executor.hpp"
#include "cnimig/agent/lease_keeper.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/metrics_server.hpp"
#include "cnimig/agent/migration_driver.hpp"
#include "cnimig/agent/node_event.hpp"
#include "cnimig/agent/systemd_notifier.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/events/metrics_recorder.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

constexpr int kExitDone = 0, kExitHalted = 1, kExitUsage = 2, kExitUnreachable = 3;

migrate::ResourceSet to_resource_set(const config::ResourceSet& in) {
  migrate::ResourceSet out;
  for (const auto& [ns, names] : in.daemonsets)
    out[migrate::kDaemonSet][ns] = names;
  for (const auto& [ns, names] : in.deployments)
    out[migrate::kDeployment][ns] = names;
  for (const auto& [ns, names] : in.statefulsets)
    out[migrate::kStatefulSet][ns] = names;
  return out;
}

migrate::MigrationSettings migration_settings(const config::Config& c) {
  auto s = migrate::MigrationSettings::defaults();
  s.labels.calico_cilium = c.labels.calico_cilium;
  s.labels.priority_calico = c.labels.cni_priority_calico;
  s.labels.priority_cilium = c.labels.cni_priority_cilium;
  s.labels.rolled = c.labels.rolled;
  s.labels.cilium = c.labels.cilium;
  s.labels.migrated = c.labels.migrated;
  s.labels.value = c.labels.value;
  s.source_cni = {migrate::kDaemonSet, c.source_cni.namespace_, c.source_cni.daemonset};
  s.knet_stress_namespace = c.connectivity.namespace_;
  s.knet_stress_daemon_sets = c.connectivity.daemonsets;
  s.preflight_resources = to_resource_set(c.preflight_resources);
  s.watched_resources = to_resource_set(c.watched_resources);
  s.cleanup_resources = to_resource_set(c.cleanup_resources);
  return s;
}

// Every workload the core reads: the configured sets, the CNI DaemonSets and
// the bundles' own workloads (a bundle counts as applied when they exist).
std::set<migrate::ObjectRef> workloads_of_interest(
    const migrate::MigrationSettings& s, const std::map<std::string, ManifestBundle>& bundles) {
  std::set<migrate::ObjectRef> out;
  for (const auto* set : {&s.preflight_resources, &s.watched_resources, &s.cleanup_resources}) {
    for (auto& ref : migrate::flatten(*set))
      out.insert(ref);
  }
  out.insert(s.source_cni);
  for (auto ref : {s.cilium(), s.cilium_migrated(), s.multus_calico(), s.multus_cilium()})
    out.insert(ref);
  for (auto& ref : s.knet_stress())
    out.insert(ref);
  for (const auto& [id, bundle] : bundles) {
    for (const auto& o : bundle.objects()) {
      if (o.info.group == "apps")
        out.insert({o.kind, o.namespace_, o.name});
    }
  }
  return out;
}

// A bundle is applied when every workload it defines exists.
void detect_applied_bundles(migrate::ClusterSnapshot& snap,
                            const std::map<std::string, ManifestBundle>& bundles) {
  snap.applied_bundles.clear();
  for (const auto& [id, bundle] : bundles) {
    bool all = true;
    for (const auto& o : bundle.objects()) {
      if (o.info.group == "apps" && !snap.exists({o.kind, o.namespace_, o.name}))
        all = false;
    }
    if (all)
      snap.applied_bundles.insert(id);
  }
}

// The permissions the migration needs (each checked with a
// SelfSubjectAccessReview before the first write).
std::vector<kube::AccessCheck> required_permissions() {
  return {
      {"patch", "", "nodes", "", "", ""},
      {"list", "", "nodes", "", "", ""},
      {"watch", "", "pods", "", "", ""},
      {"delete", "", "pods", "", "", ""},
      {"create", "", "pods", "eviction", "", ""},
      {"create", "", "pods", "exec", "", ""},
      {"patch", "apps", "daemonsets", "", "", ""},
      {"delete", "apps", "daemonsets", "", "", ""},
      {"watch", "apps", "deployments", "", "", ""},
      {"watch", "apps", "statefulsets", "", "", ""},
      {"create", "coordination.k8s.io", "leases", "", "", ""},
      {"update", "coordination.k8s.io", "leases", "", "", ""},
      {"create", "", "events", "", "", ""},
  };
}

struct Run {
  const AgentRunOptions& options;
  events::EventSink& events;
  asio::io_context& io;
  std::unique_ptr<kube::Client> client;
  std::map<std::string, ManifestBundle> bundles;
  MetricsServer* metrics = nullptr;
  MigrationDriver* driver = nullptr;
  int stop_signal = 0;
  int exit_code = kExitDone;

  asio::awaitable<void> main();
  asio::awaitable<void> body();
  asio::awaitable<int> plan(ClusterCache& cache, const DriverSettings& settings);
  asio::awaitable<int> apply(ClusterCache& cache, DriverSettings settings);
};

asio::awaitable<int> Run::plan(ClusterCache& cache, const DriverSettings& settings) {
  migrate::Budget budget;
  budget.max_unavailable = settings.max_unavailable.resolve(cache.snapshot().nodes.size());
  budget.max_parallel_nodes =
      std::min<std::size_t>(settings.max_parallel_nodes, budget.max_unavailable);
  migrate::SimulatedEffects effects(settings.migration);
  auto snapshot = cache.snapshot();
  detect_applied_bundles(snapshot, bundles);
  const auto run =
      migrate::run_plan(snapshot, settings.migration, budget, settings.selection, effects);
  for (std::size_t i = 0; i < run.actions.size(); ++i) {
    const auto& a = run.actions[i];
    auto event = events::Event(events::catalogued("plan.action"))
                     .step(migrate::to_string(a.step))
                     .field("index", static_cast<std::int64_t>(i))
                     .field("kind", migrate::event_name(a))
                     .field("action", migrate::describe(a));
    if (!a.node.empty())
      event.node(a.node);
    events.emit(event);
  }
  if (run.outcome && std::holds_alternative<migrate::Halt>(run.outcome->kind)) {
    const auto& reason = std::get<migrate::Halt>(run.outcome->kind).reason;
    events.emit(events::Event(events::catalogued("plan.halted")).error(reason));
    spdlog::error("the plan halts: {}", reason);
    co_return kExitHalted;
  }
  events.emit(events::Event(events::catalogued("plan.completed"))
                  .field("actions", static_cast<std::int64_t>(run.actions.size())));
  spdlog::info("plan: {} actions; run again with --apply to execute them", run.actions.size());
  co_return kExitDone;
}

asio::awaitable<int> Run::apply(ClusterCache& cache, DriverSettings settings) {
  LeaseKeeper lease(*client, options.config.lease, default_identity());
  if (auto held = co_await lease.acquire(); !held) {
    events.emit(events::Event(events::catalogued("lease.refused")).error(held.error().message));
    spdlog::error("{}", held.error().message);
    co_return held.error().reason == "LeaseHeld" ? kExitLeaseHeld : kExitUnreachable;
  }
  events.emit(
      events::Event(events::catalogued("lease.acquired")).field("holder", lease.identity()));

  auto notifier = SystemdNotifier::from_environment();
  KubePodExecutor prober(*client);
  ExecutorSettings exec_settings;
  exec_settings.timeouts = options.config.timeouts;
  exec_settings.check.command = options.config.connectivity.command;
  exec_settings.check.parallelism = options.config.connectivity.parallelism;
  exec_settings.check.probe_timeout = options.config.timeouts.probe;
  exec_settings.knet_stress_namespace = options.config.connectivity.namespace_;
  exec_settings.knet_stress_daemonsets = options.config.connectivity.daemonsets;
  if (const char* p = std::getenv("CNIMIG_POD_NAME"))
    exec_settings.own_pod_name = p;
  if (const char* n = std::getenv("CNIMIG_POD_NAMESPACE"))
    exec_settings.own_pod_namespace = n;
  ActionExecutor executor(*client, cache.snapshot(), bundles, exec_settings, events, prober);

  ProgressHooks hooks;
  hooks.progress_line = options.progress_line;
  hooks.status = [&](const std::string& s) { (void)notifier.status(s); };
  hooks.preflight_passed = [&] { (void)notifier.ready(); };
  const auto instance = lease.identity();
  hooks.node_milestone = [this, &cache, instance](const std::string& node,
                                                  const std::string& reason,
                                                  const std::string& message, bool warning) {
    auto event =
        make_node_event({node, cache.node_uid(node), reason, message,
                         warning ? NodeEventType::warning : NodeEventType::normal, instance},
                        std::chrono::system_clock::now());
    // Parameters by value, no captures: the coroutine outlives this lambda.
    auto record = [](kube::Client& c, boost::json::object e) -> asio::awaitable<void> {
      const auto path = kube::ResourcePath::core("events").in("default");
      if (auto r = co_await c.create(path, e, kube::WriteOptions()); !r)
        spdlog::debug("node event not recorded: {}", r.error().describe());
    };
    asio::co_spawn(io, record(*client, std::move(event)), asio::detached);
  };

  // The bundles' objects decide whether a bundle counts as applied; refresh
  // that on every change, before the core looks.
  MigrationDriver migration(cache, executor, settings, events, hooks);
  driver = &migration;

  auto watchdog = [&]() -> asio::awaitable<void> {
    // Runs until cancelled even when systemd set no watchdog: it races the
    // migration with `||`, and finishing first would end the run.
    const auto interval = notifier.watchdog_interval().value_or(std::chrono::hours(24 * 365));
    asio::steady_timer timer(io);
    for (;;) {
      (void)notifier.watchdog();
      timer.expires_after(interval);
      co_await timer.async_wait(asio::use_awaitable);
    }
  };
  auto bundles_refresh = [&]() -> asio::awaitable<void> {
    for (;;) {
      detect_applied_bundles(cache.snapshot(), bundles);
      const auto seen = cache.changes().version();
      co_await cache.changes().wait(seen, std::chrono::steady_clock::time_point::max());
    }
  };
  detect_applied_bundles(cache.snapshot(), bundles);
  auto outcome =
      co_await (migration.run() || lease.keep_renewed() || watchdog() || bundles_refresh());
  driver = nullptr;
  (void)notifier.stopping();
  co_await lease.release();

  if (outcome.index() == 1) {
    const auto& lost = std::get<1>(outcome);
    const auto reason = lost ? std::string("lease renewal ended") : lost.error().message;
    events.emit(
        events::Event(events::catalogued("migration.halted")).error("lost the Lease: " + reason));
    co_return kExitHalted;
  }
  if (outcome.index() != 0)
    co_return kExitHalted;
  const auto& result = std::get<0>(outcome);
  switch (result.outcome) {
    case RunOutcome::completed:
      co_return kExitDone;
    case RunOutcome::halted:
      co_return kExitHalted;
    case RunOutcome::interrupted:
      co_return stop_signal == SIGTERM ? 143 : 130;
  }
  co_return kExitHalted;
}

asio::awaitable<void> Run::main() {
  if (metrics == nullptr) {
    co_await body();
    co_return;
  }
  // The endpoint serves for the whole run and stops with it.
  co_await (body() || metrics->serve());
}

asio::awaitable<void> Run::body() {
  // Reachability and credentials first: nothing else matters without them.
  // (Requests are built before co_await: GCC 12 destroys braced temporaries
  // in a co_await's arguments twice.)
  kube::HttpRequest version_request;
  version_request.target = "/version";
  auto version = co_await client->request(version_request);
  if (!version) {
    events.emit(
        events::Event(events::catalogued("cluster.unreachable")).error(version.error().describe()));
    spdlog::error("cannot reach the cluster at {}: {}", client->config().server,
                  version.error().describe());
    exit_code = kExitUnreachable;
    co_return;
  }
  events.emit(events::Event(events::catalogued("cluster.connected"))
                  .field("server", client->config().server));

  const auto& c = options.config;
  const auto rewrite = LabelRewrite::from(c.labels);
  const std::vector<std::pair<std::string, std::filesystem::path>> bundle_files = {
      {"cilium", c.paths.cilium}, {"multus", c.paths.multus}, {"knet-stress", c.paths.knet_stress}};
  for (const auto& [id, path] : bundle_files) {
    auto bundle = ManifestBundle::load(id, path, rewrite);
    if (!bundle) {
      spdlog::error("{}", bundle.error().message);
      exit_code = kExitUsage;
      co_return;
    }
    bundles.emplace(id, std::move(*bundle));
  }

  if (options.apply) {
    std::vector<std::string> denied;
    for (const auto& check : required_permissions()) {
      auto allowed = co_await client->can_i(check, kube::RequestOptions());
      if (!allowed) {
        spdlog::error("permission check failed: {}", allowed.error().describe());
        exit_code = kExitUnreachable;
        co_return;
      }
      if (!*allowed) {
        denied.push_back(check.verb + " " + (check.group.empty() ? "" : check.group + "/") +
                         check.resource +
                         (check.subresource.empty() ? "" : "/" + check.subresource));
      }
    }
    if (!denied.empty()) {
      std::string list;
      for (const auto& d : denied)
        list += (list.empty() ? "" : ", ") + d;
      events.emit(events::Event(events::catalogued("preflight.failed"))
                      .error("missing permissions: " + list));
      spdlog::error("the agent's credentials lack permissions the migration needs: {}", list);
      exit_code = kExitUsage;
      co_return;
    }
  }
  // Cilium's Geneve tunnel needs UDP 6081 between nodes; the API cannot tell.
  spdlog::warn(
      "Cilium uses Geneve: UDP port 6081 must be open between all nodes before the migration");
  events.emit(events::Event(events::catalogued("preflight.warning"))
                  .field("warning", "UDP 6081 (Geneve) must be open between nodes"));

  DriverSettings settings;
  settings.migration = migration_settings(c);
  settings.selection.first = static_cast<migrate::StepId>(options.steps.first);
  settings.selection.last = static_cast<migrate::StepId>(options.steps.last);
  settings.selection.nodes = options.nodes;
  settings.max_parallel_nodes = c.parallelism.max_parallel_nodes;
  settings.max_unavailable = c.parallelism.max_unavailable;
  settings.timeouts = c.timeouts;

  ClusterCache cache(*client, settings.migration.annotation_prefix,
                     workloads_of_interest(settings.migration, bundles));
  auto work = [&]() -> asio::awaitable<int> {
    if (!co_await cache.wait_synced(c.timeouts.gate)) {
      spdlog::error("the watches did not sync within {}s", c.timeouts.gate.count() / 1000);
      co_return kExitUnreachable;
    }
    for (const auto& n : options.nodes) {
      if (!cache.snapshot().nodes.contains(n)) {
        spdlog::error("--nodes: the cluster has no node {}", n);
        co_return kExitUsage;
      }
    }
    events.emit(events::Event(events::catalogued("cluster.synced"))
                    .field("nodes", static_cast<std::int64_t>(cache.snapshot().nodes.size())));
    // Not `?:` around co_await: GCC 12 evaluates both arms' awaits.
    if (options.apply)
      co_return co_await apply(cache, settings);
    co_return co_await plan(cache, settings);
  };
  auto result = co_await (work() || cache.run());
  cache.stop();
  if (result.index() == 0) {
    exit_code = std::get<0>(result);
  } else {
    const auto& failed = std::get<1>(result);
    spdlog::error("watching the cluster failed: {}",
                  failed ? "stopped" : failed.error().describe());
    exit_code = kExitUnreachable;
  }
}

}  // namespace

int run_agent(const AgentRunOptions& options, events::EventSink& events) {
  kube::LoadOptions load;
  load.kubeconfig = options.kubeconfig;
  load.context = options.context;
  auto client_config = kube::load_client_config(load);
  if (!client_config) {
    spdlog::error("{}", client_config.error().message);
    return kExitUnreachable;
  }
  asio::io_context io;
  auto client = kube::Client::create(io.get_executor(), std::move(*client_config));
  if (!client) {
    spdlog::error("{}", client.error().message);
    return kExitUnreachable;
  }
  const auto started = std::chrono::steady_clock::now();

  // --metrics-addr: metrics derived from the events and the API attempts.
  events::MetricsRegistry registry;
  std::optional<events::MetricsRecorder> recorder;
  std::unique_ptr<MetricsServer> metrics;
  events::EventSink* sink = &events;
  if (options.metrics_address) {
    auto server = MetricsServer::listen(io.get_executor(), *options.metrics_address, registry);
    if (!server) {
      spdlog::error("{}", server.error().message);
      return kExitUsage;
    }
    metrics = std::move(*server);
    recorder.emplace(events, registry);
    sink = &*recorder;
    sink->emit(events::Event(events::catalogued("metrics.listening"))
                   .field("address", metrics->address()));
    spdlog::info("metrics at http://{}/metrics", metrics->address());
  }
  (*client)->set_observer([sink, &recorder](const kube::RequestRecord& r) {
    if (recorder)
      recorder->record_request(kube::to_string(r.method), r.status);
    if (r.attempt > 1) {
      sink->emit(events::Event(events::catalogued("api.retry"))
                     .field("method", kube::to_string(r.method))
                     .field("path", r.path)
                     .field("attempt", r.attempt)
                     .field("status", static_cast<std::int64_t>(r.status)));
    }
  });

  Run run{options, *sink, io, std::move(*client), {}, metrics.get(), nullptr, 0, kExitDone};

  // SIGINT/SIGTERM: the first asks for a stop at the next safe point, a
  // second one cancels what is running.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec)
          return;
        if (run.stop_signal == 0)
          run.stop_signal = signal;
        spdlog::warn("{} received: stopping at the next safe point (send it again to stop at once)",
                     signal == SIGTERM ? "SIGTERM" : "SIGINT");
        if (run.driver != nullptr) {
          run.driver->request_stop();
        } else {
          io.stop();  // nothing written yet: stop now
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  bool finished = false;
  asio::co_spawn(io, run.main(), [&](std::exception_ptr e) {
    finished = true;
    signals.cancel();
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::critical("internal error: {}", ex.what());
        run.exit_code = kExitHalted;
      }
    }
  });
  io.run();
  if (options.progress_line)
    options.progress_line->clear_status();
  if (!finished) {
    // Stopped before the first write: nothing to bring to a safe point.
    sink->emit(events::Event(events::catalogued("migration.interrupted"))
                   .duration(std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - started)));
    return run.stop_signal == SIGTERM ? 143 : 130;
  }
  return run.exit_code;
}

}  // namespace cnimig::agent
