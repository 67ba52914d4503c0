// Plan mode: the plan, each of its actions as an event, the API server's
// dryRun=All check of the writes it can check now, and the summary.

#include <algorithm>
#include <csignal>
#include <set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/kube_pod_executor.hpp"
#include "cnimig/agent/plan_summary_facts.hpp"
#include "cnimig/agent/plan_summary_report.hpp"
#include "cnimig/agent/sliced_plan.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "agent_run_state.hpp"

namespace cnimig::agent::detail {

namespace asio = boost::asio;

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
  // The API serves the CiliumNodeConfig's kind now (its CRD is registered).
  bool node_config_served = false;

  ExistingObjects(const migrate::ClusterSnapshot& cluster, const ClusterCache& pods,
                  bool node_config)
      : cache(pods), applied_bundles(cluster.applied_bundles), node_config_served(node_config) {
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

namespace {

// Plan mode's dryRun=All checks in flight at once.
constexpr std::size_t kDryRunFanOut = 16;
// Plan rounds between returns to the io_context: a round costs about a
// millisecond at 5,000 nodes and microseconds on small clusters.
constexpr std::size_t kPlanRoundsPerSlice = 8;

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
  // cilium-native's CiliumNodeConfig needs its CRD, which the operator the
  // plan installs first registers.
  if (const auto* b = std::get_if<ApplyBundle>(&a.kind))
    return b->id != BundleIds{}.cilium_node_config || existing.node_config_served;
  if (const auto* d = std::get_if<DeleteBundle>(&a.kind))
    return existing.applied_bundles.contains(d->id);
  if (const auto* d = std::get_if<DeleteObject>(&a.kind))
    return existing.objects.contains(d->object);
  if (const auto* p = std::get_if<PatchDaemonSetNodeSelector>(&a.kind))
    return existing.objects.contains(ObjectRef{kDaemonSet, p->ns, p->name});
  return existing.nodes.contains(a.node);  // node labels, annotations, cordon, taints
}

}  // namespace

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
  const ExistingObjects existing(snapshot, cache, node_config_served);
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
  const PlanReport report{*client,
                          events,
                          run,
                          budget,
                          settings.timeouts,
                          bundles,
                          settings.selection.rollback,
                          settings.migration.strategy};
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

}  // namespace cnimig::agent::detail
