#include "cnimig/agent/agent_run.hpp"

#include <algorithm>
#include <csignal>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/agent/cluster_cache.hpp"
#include "cnimig/agent/cni_stack_preflight.hpp"
#include "cnimig/agent/instance_lock.hpp"
#include "cnimig/agent/kube_pod_executor.hpp"
#include "cnimig/agent/lease_keeper.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/metrics_server.hpp"
#include "cnimig/agent/migration_driver.hpp"
#include "cnimig/agent/migration_inputs.hpp"
#include "cnimig/agent/node_event.hpp"
#include "cnimig/agent/permission_check.hpp"
#include "cnimig/agent/plan_summary_facts.hpp"
#include "cnimig/agent/plan_summary_report.hpp"
#include "cnimig/agent/run_summary.hpp"
#include "cnimig/agent/sliced_plan.hpp"
#include "cnimig/agent/systemd_notifier.hpp"
#include "cnimig/common/exit_code.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/events/metrics_recorder.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/kube/server_version.hpp"
#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// Plan mode's dryRun=All checks in flight at once.
constexpr std::size_t kDryRunFanOut = 16;
// Plan rounds between returns to the io_context: a round costs about a
// millisecond at 5,000 nodes and microseconds on small clusters.
constexpr std::size_t kPlanRoundsPerSlice = 8;

// What the cluster holds when a plan starts, for plan mode's dry-run checks.
// The plan's snapshot itself goes to the core (no copy of 150,000 pods), so
// this keeps only what tells whether a write's object exists; pods are asked
// of the cache's pod informer, which holds every pod's key already (a set of
// their uids cost 16 MB at 160,000 pods).
struct ExistingObjects {
  const ClusterCache& cache;
  std::set<std::string> nodes;
  std::set<std::string> applied_bundles;
  std::set<migrate::ObjectRef> objects;

  ExistingObjects(const migrate::ClusterSnapshot& cluster, const ClusterCache& pods)
      : cache(pods), applied_bundles(cluster.applied_bundles) {
    for (const auto& [name, node] : cluster.nodes)
      nodes.insert(name);
    for (const auto& [ref, workload] : cluster.workloads) {
      if (workload.exists)
        objects.insert(ref);
    }
  }
  // The pod is (still) on that node.
  bool has_pod(const std::string& ns, const std::string& name, const std::string& node) const {
    return cache.pod_node(ns, name) == node;
  }
};

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
  std::vector<std::string> preflight_warnings;        // for the plan summary
  std::optional<kube::ServerVersion> server_version;  // from GET /version

  asio::awaitable<void> main();
  asio::awaitable<void> body();
  asio::awaitable<bool> check_permissions();
  int watches_failed(const Error& error);
  asio::awaitable<int> plan(ClusterCache& cache, const DriverSettings& settings);
  struct WriteChecks {
    ActionExecutor& executor;
    const migrate::RunRecord& record;
    std::vector<migrate::Action> todo;
    std::size_t next = 0;
    std::size_t failed = 0;
  };
  asio::awaitable<std::size_t> check_writes(const ExistingObjects& existing,
                                            const std::vector<migrate::Action>& actions);
  asio::awaitable<void> check_worker(WriteChecks& checks);
  asio::awaitable<int> apply(ClusterCache& cache, DriverSettings settings);
};

// Whether a planned write acts on something the cluster holds now. Later
// writes of the plan act on what earlier ones create (a replacement pod, the
// Cilium DaemonSets): the server can only check those once they exist.
bool checkable_now(const migrate::Action& a, const ExistingObjects& existing) {
  using namespace migrate;
  if (!is_write(a))
    return false;
  if (const auto* p = std::get_if<EvictPod>(&a.kind))
    return existing.has_pod(p->ns, p->name, a.node);
  if (const auto* p = std::get_if<DeletePod>(&a.kind))
    return existing.has_pod(p->ns, p->name, a.node);
  if (std::holds_alternative<ApplyBundle>(a.kind))
    return true;
  if (const auto* d = std::get_if<DeleteBundle>(&a.kind))
    return existing.applied_bundles.contains(d->id);
  if (const auto* d = std::get_if<DeleteObject>(&a.kind))
    return existing.objects.contains(d->object);
  if (const auto* p = std::get_if<PatchDaemonSetNodeSelector>(&a.kind))
    return existing.objects.contains(ObjectRef{kDaemonSet, p->ns, p->name});
  return existing.nodes.contains(a.node);  // node labels, annotations, cordon, taints
}

// Plan mode's server-side check: each write the plan makes on what exists now
// goes to the API server with dryRun=All (validated, admitted, not persisted).
// The checks are independent (nothing is persisted), so they run with a
// bounded fan-out. Returns how many the server refused.
asio::awaitable<std::size_t> Run::check_writes(const ExistingObjects& existing,
                                               const std::vector<migrate::Action>& actions) {
  // A dry run's outcomes go nowhere (no handler), and it reads no cluster.
  const migrate::ClusterSnapshot scratch;
  const migrate::RunRecord no_record;
  KubePodExecutor prober(*client);
  ExecutorSettings exec_settings;
  exec_settings.timeouts = options.config.timeouts;
  exec_settings.dry_run = true;
  ActionExecutor executor(*client, scratch, bundles, exec_settings, events, prober);
  WriteChecks checks{executor, no_record, {}, 0, 0};
  std::set<std::string> seen;
  std::size_t skipped = 0;
  for (const auto& a : actions) {
    if (!migrate::is_write(a))
      continue;
    if (!checkable_now(a, existing)) {
      ++skipped;
      continue;
    }
    // The same write again (a label set twice): one check.
    if (seen.insert(migrate::describe(a)).second)
      checks.todo.push_back(a);
  }
  const std::size_t workers = std::min<std::size_t>(kDryRunFanOut, checks.todo.size());
  std::size_t running = workers;
  asio::steady_timer all_done(io, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < workers; ++i) {
    asio::co_spawn(io, check_worker(checks), [&](std::exception_ptr e) {
      if (e)
        spdlog::error("a dry-run check ended abnormally");
      if (--running == 0)
        all_done.cancel();
    });
  }
  if (workers > 0)
    co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  // A bundle's writes are its objects: those sent are checked, those in a
  // Namespace the plan creates are skipped (see ActionExecutor::apply_bundle).
  const auto& tally = executor.dry_run_tally();
  const auto bundles = std::count_if(checks.todo.begin(), checks.todo.end(), [](const auto& a) {
    return std::holds_alternative<migrate::ApplyBundle>(a.kind);
  });
  const auto checked =
      checks.todo.size() - static_cast<std::size_t>(bundles) + tally.objects_checked;
  events.emit(events::Event(events::catalogued("plan.checked"))
                  .field("checked", static_cast<std::int64_t>(checked))
                  .field("failed", static_cast<std::int64_t>(checks.failed))
                  .field("skipped", static_cast<std::int64_t>(skipped + tally.objects_skipped)));
  co_return checks.failed;
}

// One of check_writes' workers: takes the next planned write until none is left.
asio::awaitable<void> Run::check_worker(WriteChecks& checks) {
  while (checks.next < checks.todo.size()) {
    const auto& a = checks.todo[checks.next++];
    auto result = co_await checks.executor.execute(a, checks.record);
    if (result)
      continue;
    ++checks.failed;
    auto event = events::Event(events::catalogued("plan.check_failed"))
                     .step(migrate::to_string(a.step))
                     .field("action", migrate::describe(a))
                     .error(result.error().describe());
    if (!a.node.empty())
      event.node(a.node);
    events.emit(event);
    spdlog::error("the API server refuses a planned write ({}): {}", migrate::describe(a),
                  result.error().describe());
  }
}

asio::awaitable<int> Run::plan(ClusterCache& cache, const DriverSettings& settings) {
  migrate::Budget budget;
  budget.max_unavailable = settings.max_unavailable.resolve(cache.snapshot().nodes.size());
  budget.max_parallel_nodes =
      std::min<std::size_t>(settings.max_parallel_nodes, budget.max_unavailable);
  migrate::SimulatedEffects effects(settings.migration);
  // The plan is this run's last use of the cache's snapshot: it is handed
  // over, not copied (each copy is tens of MB at 150,000 pods).
  migrate::PlanState snapshot(cache.release_snapshot());
  // The server's clock: the model compares it with pods' creationTimestamps.
  const auto server_time = client->server_clock().earliest(std::chrono::steady_clock::now());
  snapshot.now = std::chrono::floor<std::chrono::seconds>(
                     server_time.value_or(std::chrono::system_clock::now()).time_since_epoch())
                     .count();
  const ExistingObjects existing(snapshot, cache);
  auto facts = plan_facts(snapshot, settings.migration);
  facts.warnings.insert(facts.warnings.end(), preflight_warnings.begin(), preflight_warnings.end());
  migrate::PlanRunner runner(std::move(snapshot), settings.migration, budget, settings.selection,
                             effects);
  // Between slices the io_context runs what is ready: a SIGINT/SIGTERM stops
  // the run there (nothing has been written), however long the plan.
  auto planned = co_await run_plan_sliced(runner, kPlanRoundsPerSlice);
  if (!planned)
    co_return stop_signal == SIGINT ? kExitInterrupted : kExitTerminated;
  const auto& run = *planned;
  for (std::size_t i = 0; i < run.actions.size() && !options.plan_summary_only; ++i) {
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
  const auto refused = co_await check_writes(existing, run.actions);
  const PlanReport report{*client, events, run, budget, settings.timeouts, bundles};
  co_await report_plan_summary(report, std::move(facts));
  if (run.outcome && std::holds_alternative<migrate::Halt>(*run.outcome)) {
    const auto& reason = std::get<migrate::Halt>(*run.outcome).reason;
    events.emit(events::Event(events::catalogued("plan.halted")).error(reason));
    spdlog::error("the plan halts: {}", reason);
    co_return kExitHalted;
  }
  if (refused > 0) {
    const auto reason = std::to_string(refused) +
                        " planned write(s) failed the API server's dryRun=All check (see "
                        "plan.check_failed)";
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
  // The Lease's holder is stable per host (a restarted agent takes its own
  // Lease back at once); this lock keeps a second agent on the same host out.
  std::optional<InstanceLock> host_lock;
  {
    const auto lock_path = InstanceLock::path_for(
        client->config().server, options.config.lease.namespace_, options.config.lease.name);
    auto locked = InstanceLock::acquire(lock_path);
    if (locked) {
      host_lock.emplace(std::move(*locked));
    } else if (locked.error().reason == "LeaseHeld") {
      events.emit(events::Event(events::catalogued("lease.refused")).error(locked.error().message));
      spdlog::error("{}", locked.error().message);
      co_return kExitLeaseHeld;
    } else {
      spdlog::warn("{}; another agent on this host would not be kept out", locked.error().message);
    }
  }
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
  exec_settings.exec_permission = exec_permission(server_version);
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

  MigrationDriver migration(cache, executor, client->server_clock(), settings, events, hooks);
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
  const auto started = std::chrono::steady_clock::now();
  auto outcome = co_await (migration.run() || lease.keep_renewed() || watchdog());
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
      spdlog::info("{}", completion_summary(settings.selection.steps,
                                            settings.selection.nodes.empty()
                                                ? cache.snapshot().nodes.size()
                                                : settings.selection.nodes.size(),
                                            std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - started)));
      co_return kExitDone;
    case RunOutcome::halted:
      co_return kExitHalted;
    case RunOutcome::denied:
      co_return kExitUsage;
    case RunOutcome::interrupted:
      co_return stop_signal == SIGTERM ? kExitTerminated : kExitInterrupted;
  }
  co_return kExitHalted;
}

// SelfSubjectAccessReviews for every permission the migration will use on
// this server; false (exit_code set, event emitted) when one is missing.
asio::awaitable<bool> Run::check_permissions() {
  auto denied = co_await missing_permissions(*client, required_permissions(server_version));
  if (!denied) {
    spdlog::error("permission check failed: {}", denied.error().describe());
    events.emit(
        events::Event(events::catalogued("cluster.unreachable")).error(denied.error().describe()));
    exit_code = kExitUnreachable;
    co_return false;
  }
  if (denied->empty())
    co_return true;
  std::string list;
  for (const auto& d : *denied)
    list += (list.empty() ? "" : ", ") + d;
  events.emit(
      events::Event(events::catalogued("preflight.failed")).error("missing permissions: " + list));
  spdlog::error("the agent's credentials lack permissions the migration needs: {}", list);
  exit_code = kExitUsage;
  co_return false;
}

// The first list or watch of a resource failed for good (the informers
// retry everything transient). A 403 is a permission the credentials lack,
// like a denied access review; anything else (a 401, a timeout) means the
// cluster cannot be used.
int Run::watches_failed(const Error& error) {
  if (error.code == Errc::forbidden) {
    events.emit(events::Event(events::catalogued("preflight.failed"))
                    .error("missing permissions: " + error.message));
    spdlog::error("the agent's credentials lack permissions the migration needs: {}",
                  error.message);
    return kExitUsage;
  }
  events.emit(events::Event(events::catalogued("cluster.unreachable")).error(error.describe()));
  spdlog::error("watching the cluster failed: {}", error.describe());
  return kExitUnreachable;
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
  {
    boost::system::error_code ec;
    const auto info = boost::json::parse(version->body, ec);
    if (!ec && info.is_object())
      server_version = kube::parse_server_version(info.get_object());
    if (server_version) {
      spdlog::info("the API server runs Kubernetes {}.{} ({})", server_version->major,
                   server_version->minor, server_version->git_version);
    } else {
      spdlog::warn(
          "the API server's /version names no Kubernetes version; assuming the newest "
          "authorization rules");
    }
  }

  const auto& c = options.config;
  auto loaded = load_bundles(c);
  if (!loaded) {
    spdlog::error("{}", loaded.error().message);
    exit_code = kExitUsage;
    co_return;
  }
  bundles = std::move(*loaded);

  if (options.apply) {
    const bool granted = co_await check_permissions();
    if (!granted)
      co_return;
  }
  // Pod CIDRs, overlays, cni-exclusive, Calico's autodetection, Kubernetes
  // and kernel versions against the pinned Cilium; in plan mode too.
  const bool stack_ok =
      co_await cni_stack_preflight(*client, c, bundles, server_version, events, preflight_warnings);
  if (!stack_ok) {
    exit_code = kExitUsage;
    co_return;
  }

  DriverSettings settings;
  settings.migration = migration_settings(c);
  settings.migration.skip_roll_for_tests = options.skip_roll_for_tests;
  settings.selection.steps = options.steps;
  settings.selection.nodes = options.nodes;
  settings.max_parallel_nodes = c.parallelism.max_parallel_nodes;
  settings.max_unavailable = c.parallelism.max_unavailable;
  settings.timeouts = c.timeouts;

  ClusterCache cache(*client, settings.migration.annotation_prefix,
                     workloads_of_interest(settings.migration, bundles));
  // The bundles' objects decide whether a bundle counts as applied.
  cache.track_bundles(bundles);
  auto work = [&]() -> asio::awaitable<int> {
    auto synced = co_await cache.wait_synced(c.timeouts.gate);
    if (!synced)
      co_return watches_failed(synced.error());
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
  kube::ClientOptions client_options;
  client_options.max_requests_in_flight = options.config.parallelism.max_requests_in_flight;
  client_options.max_idle_connections = client_options.max_requests_in_flight;
  auto client =
      kube::Client::create(io.get_executor(), std::move(*client_config), std::move(client_options));
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
    // The path only: queries can carry selectors an operator did not ask
    // to see, and headers (the bearer token) never reach the observer.
    spdlog::debug(
        "kube: {} {} -> {} in {} ms (attempt {})", kube::to_string(r.method), r.path, r.status,
        std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count(), r.attempt);
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

  Run run{options, *sink, io, std::move(*client), {}, metrics.get(), nullptr, 0, kExitDone, {}, {}};

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
    return run.stop_signal == SIGTERM ? kExitTerminated : kExitInterrupted;
  }
  return run.exit_code;
}

}  // namespace cnimig::agent
