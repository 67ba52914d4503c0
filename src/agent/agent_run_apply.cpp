// --apply: the migration itself, under the host lock and the Lease, with
// systemd told how it goes and Kubernetes Events on the nodes.

#include <csignal>
#include <cstdlib>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/kube_pod_executor.hpp"
#include "cnimig/agent/node_event.hpp"
#include "cnimig/agent/permission_check.hpp"
#include "cnimig/agent/run_summary.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/lease/lease_keeper.hpp"

#include "agent_run_state.hpp"

namespace cnimig::agent::detail {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

asio::awaitable<int> Run::apply(ClusterCache& cache, DriverSettings settings) {
  // The Lease's holder is stable per host (a restarted agent takes its own
  // Lease back at once); this lock keeps a second agent on the same host out.
  std::optional<lease::InstanceLock> host_lock;
  if (!lock_host(host_lock))
    co_return kExitLeaseHeld;
  lease::LeaseKeeper keeper(*client, options.config.lease, lease::default_identity());
  if (auto held = co_await keeper.acquire(); !held) {
    events.emit(events::Event(events::catalogued("lease.refused")).error(held.error().message));
    spdlog::error("{}", held.error().message);
    co_return held.error().reason == "LeaseHeld" ? kExitLeaseHeld : kExitUnreachable;
  }
  events.emit(
      events::Event(events::catalogued("lease.acquired")).field("holder", keeper.identity()));

  auto notifier = SystemdNotifier::from_environment();
  KubePodExecutor prober(*client);
  ActionExecutor executor(*client, cache.snapshot(), bundles, executor_settings(), events, prober);
  executor.select_from(cache.namespace_pods());
  BudgetWatch budgets(*client);
  executor.wait_for_budgets(budgets);
  const auto hooks = progress_hooks(cache, notifier, keeper.identity());
  MigrationDriver migration(cache, executor, client->server_clock(), settings, events, hooks);
  driver = &migration;
  const auto started = std::chrono::steady_clock::now();
  // The budget watch never ends by itself (outcome index 3 is unreachable).
  auto outcome = co_await (migration.run() || keeper.keep_renewed() || feed_watchdog(notifier) ||
                           budgets.run());
  driver = nullptr;
  (void)notifier.stopping();
  co_await keeper.release();

  if (outcome.index() == 1) {
    const auto& lost = std::get<1>(outcome);
    const auto reason = lost ? std::string("lease renewal ended") : lost.error().message;
    events.emit(
        events::Event(events::catalogued("migration.halted")).error("lost the Lease: " + reason));
    co_return kExitHalted;
  }
  if (outcome.index() != 0)
    co_return kExitHalted;
  co_return exit_code_of(std::get<0>(outcome), cache, settings, started);
}

// Takes the per-host lock; false (reported) when another agent on this host
// holds it. A lock that cannot be taken for another reason only warns.
bool Run::lock_host(std::optional<lease::InstanceLock>& host_lock) {
  const auto lock_path = lease::InstanceLock::path_for(
      client->config().server, options.config.lease.namespace_, options.config.lease.name);
  auto locked = lease::InstanceLock::acquire(lock_path);
  if (locked) {
    host_lock.emplace(std::move(*locked));
  } else if (locked.error().reason == "LeaseHeld") {
    events.emit(events::Event(events::catalogued("lease.refused")).error(locked.error().message));
    spdlog::error("{}", locked.error().message);
    return false;
  } else {
    spdlog::warn("{}; another agent on this host would not be kept out", locked.error().message);
  }
  return true;
}

ExecutorSettings Run::executor_settings() const {
  ExecutorSettings exec_settings;
  exec_settings.timeouts = options.config.timeouts;
  exec_settings.check.command = options.config.connectivity.command;
  exec_settings.check.parallelism = options.config.connectivity.parallelism;
  exec_settings.check.probe_timeout = options.config.timeouts.probe;
  exec_settings.knet_stress_namespace = options.config.connectivity.namespace_;
  exec_settings.knet_stress_daemonsets = options.config.connectivity.daemonsets;
  exec_settings.exec_permission = exec_permission(server_version);
  exec_settings.order_cutoffs = kube::resource_versions_compare(server_version);
  if (const char* p = std::getenv("CNIMIG_POD_NAME"))
    exec_settings.own_pod_name = p;
  if (const char* n = std::getenv("CNIMIG_POD_NAMESPACE"))
    exec_settings.own_pod_namespace = n;
  return exec_settings;
}

// systemd's STATUS= and READY=1, the progress line, and each node's
// milestones as a Kubernetes Event on the Node (`instance`: the Lease holder).
ProgressHooks Run::progress_hooks(ClusterCache& cache, SystemdNotifier& notifier,
                                  const std::string& instance) {
  ProgressHooks hooks;
  hooks.progress_line = options.progress_line;
  hooks.status = [n = &notifier](const std::string& s) { (void)n->status(s); };
  hooks.preflight_passed = [n = &notifier] { (void)n->ready(); };
  hooks.node_milestone = [this, c = &cache, instance](const std::string& node,
                                                      const std::string& reason,
                                                      const std::string& message, bool warning) {
    auto event =
        make_node_event({node, c->node_uid(node), reason, message,
                         warning ? NodeEventType::warning : NodeEventType::normal, instance},
                        std::chrono::system_clock::now());
    // Parameters by value, no captures: the coroutine outlives this lambda.
    auto record = [](kube::Client& client, boost::json::object e) -> asio::awaitable<void> {
      const auto path = kube::ResourcePath::core("events").in("default");
      if (auto r = co_await client.create(path, e, kube::WriteOptions()); !r)
        spdlog::debug("node event not recorded: {}", r.error().describe());
    };
    asio::co_spawn(io, record(*client, std::move(event)), asio::detached);
  };
  return hooks;
}

// Runs until cancelled even when systemd set no watchdog: it races the
// migration with `||`, and finishing first would end the run.
asio::awaitable<void> Run::feed_watchdog(SystemdNotifier& notifier) {
  const auto interval = notifier.watchdog_interval().value_or(std::chrono::hours(24 * 365));
  asio::steady_timer timer(io);
  for (;;) {
    (void)notifier.watchdog();
    timer.expires_after(interval);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

int Run::exit_code_of(const RunResult& result, const ClusterCache& cache,
                      const DriverSettings& settings,
                      std::chrono::steady_clock::time_point started) const {
  const auto nodes = settings.selection.nodes.empty() ? cache.snapshot().nodes.size()
                                                      : settings.selection.nodes.size();
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  switch (result.outcome) {
    case RunOutcome::completed:
      if (settings.selection.rollback) {
        spdlog::info("rollback completed in {:.1f} s ({} node(s) in scope)",
                     std::chrono::duration<double>(elapsed).count(), nodes);
        return kExitDone;
      }
      spdlog::info("{}", completion_summary(settings.selection.steps, nodes, elapsed));
      return kExitDone;
    case RunOutcome::held: {
      const auto first = settings.selection.steps.first == config::Step::cleanup
                             ? config::Step::migrate
                             : settings.selection.steps.first;
      const config::StepRange until_migrate{first, config::Step::migrate};
      spdlog::info("{} (held by cleanup.hold: set it to false and run again to finish)",
                   completion_summary(until_migrate, nodes, elapsed));
      return kExitDone;
    }
    case RunOutcome::halted:
      return kExitHalted;
    case RunOutcome::denied:
      return kExitUsage;
    case RunOutcome::interrupted:
      return stop_signal == SIGTERM ? kExitTerminated : kExitInterrupted;
  }
  return kExitHalted;
}

}  // namespace cnimig::agent::detail
