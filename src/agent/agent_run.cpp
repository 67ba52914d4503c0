// run_agent(): the client, the metrics endpoint and the signal handling
// around one Run, and the run's stages in order.

#include "cnimig/agent/agent_run.hpp"

#include <csignal>
#include <functional>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/cni_stack_preflight.hpp"
#include "cnimig/agent/migration_inputs.hpp"
#include "cnimig/common/exception_message.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/events/metrics_recorder.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/migrate/planner.hpp"

#include "agent_run_state.hpp"

namespace cnimig::agent {
namespace detail {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> Run::main() {
  if (metrics == nullptr) {
    co_await body();
    co_return;
  }
  // The endpoint serves for the whole run and stops with it.
  co_await (body() || metrics->serve());
}

asio::awaitable<void> Run::body() {
  // One step at a time (not `a || b` across a co_await, which GCC 12
  // mishandles).
  const bool connected = co_await connect();
  if (!connected || !load_bundles())
    co_return;
  if (options.apply) {
    const bool granted = co_await check_permissions();
    if (!granted)
      co_return;
  }
  // cilium-native: the CiliumNodeConfig's version, and whether it exists.
  const bool discovered = co_await discover_cilium_node_config();
  if (!discovered)
    co_return;
  // Pod CIDRs, overlays, cni-exclusive, Calico's autodetection, Kubernetes
  // and kernel versions against the pinned Cilium; in plan mode too.
  const bool stack_ok = co_await cni_stack_preflight(*client, options.config, bundles,
                                                     server_version, events, preflight_warnings);
  if (!stack_ok) {
    exit_code = kExitUsage;
    co_return;
  }

  const DriverSettings settings = driver_settings();
  ClusterCache cache(*client, settings.migration.annotation_prefix,
                     workloads_of_interest(settings.migration, bundles));
  // The connectivity check's targets, without a walk of every pod.
  cache.index_namespace(options.config.connectivity.namespace_);
  // The bundles' objects decide whether a bundle counts as applied.
  cache.track_bundles(bundles);
  if (existing_node_config)
    cache.apply_written(existing_node_config->at("kind").as_string(), *existing_node_config);
  auto result = co_await (work(cache, settings) || cache.run());
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

DriverSettings Run::driver_settings() const {
  const auto& c = options.config;
  DriverSettings settings;
  settings.migration = migration_settings(c, bundles);
  settings.migration.skip_roll_for_tests = options.skip_roll_for_tests;
  settings.selection.steps = options.steps;
  settings.selection.nodes = options.nodes;
  settings.selection.rollback = options.rollback;
  settings.max_parallel_nodes = c.parallelism.max_parallel_nodes;
  settings.max_unavailable = c.parallelism.max_unavailable;
  settings.timeouts = c.timeouts;
  return settings;
}

// Once the watches have synced: the plan, or the migration.
asio::awaitable<int> Run::work(ClusterCache& cache, const DriverSettings& settings) {
  auto synced = co_await cache.wait_synced(options.config.timeouts.gate);
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
  if (options.rollback && migrate::past_point_of_no_return(cache.snapshot(), settings.migration)) {
    spdlog::error(
        "--rollback: cleanup has started ({} selects every node, the source CNI is being "
        "deleted): past the point of no return, a rollback is no longer possible",
        settings.migration.cilium_migrated().describe());
    co_return kExitUsage;
  }
  // Not `?:` around co_await: GCC 12 evaluates both arms' awaits.
  if (options.apply)
    co_return co_await apply(cache, settings);
  co_return co_await plan(cache, settings);
}

// SIGINT/SIGTERM: the first asks for a stop at the next safe point, a
// second one cancels what is running.
void Run::on_signal(int signal) {
  if (stop_signal == 0)
    stop_signal = signal;
  spdlog::warn("{} received: stopping at the next safe point (send it again to stop at once)",
               signal == SIGTERM ? "SIGTERM" : "SIGINT");
  if (driver != nullptr) {
    driver->request_stop();
  } else {
    io.stop();  // nothing written yet: stop now
  }
}

}  // namespace detail

namespace {

namespace asio = boost::asio;

// The kubeconfig's client, or nullptr (logged) when there is none.
std::unique_ptr<kube::Client> make_client(const AgentRunOptions& options, asio::io_context& io) {
  kube::LoadOptions load;
  load.kubeconfig = options.kubeconfig;
  load.context = options.context;
  auto client_config = kube::load_client_config(load);
  if (!client_config) {
    spdlog::error("{}", client_config.error().message);
    return nullptr;
  }
  kube::ClientOptions client_options;
  client_options.max_requests_in_flight = options.config.parallelism.max_requests_in_flight;
  client_options.max_idle_connections = client_options.max_requests_in_flight;
  auto client =
      kube::Client::create(io.get_executor(), std::move(*client_config), std::move(client_options));
  if (!client) {
    spdlog::error("{}", client.error().message);
    return nullptr;
  }
  return std::move(*client);
}

// --metrics-addr: metrics derived from the events and the API attempts.
// Events then go through the recorder on their way to the sink.
struct RunMetrics {
  events::MetricsRegistry registry;
  std::optional<events::MetricsRecorder> recorder;
  std::unique_ptr<MetricsServer> server;
  events::EventSink* sink = nullptr;

  // False (logged) when the address cannot be served.
  bool start(const AgentRunOptions& options, asio::io_context& io, events::EventSink& events) {
    sink = &events;
    if (!options.metrics_address)
      return true;
    auto listening = MetricsServer::listen(io.get_executor(), *options.metrics_address, registry);
    if (!listening) {
      spdlog::error("{}", listening.error().message);
      return false;
    }
    server = std::move(*listening);
    recorder.emplace(events, registry);
    sink = &*recorder;
    sink->emit(
        events::Event(events::catalogued("metrics.listening")).field("address", server->address()));
    spdlog::info("metrics at http://{}/metrics", server->address());
    return true;
  }

  // Every API attempt: a debug line, the request metrics, and `api.retry`
  // for repeated ones.
  void observe(kube::Client& client) {
    client.set_observer([sink = sink, &recorder = recorder](const kube::RequestRecord& r) {
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
  }
};

}  // namespace

int run_agent(const AgentRunOptions& options, events::EventSink& events) {
  asio::io_context io;
  auto client = make_client(options, io);
  if (!client)
    return kExitUnreachable;
  const auto started = std::chrono::steady_clock::now();
  RunMetrics metrics;
  if (!metrics.start(options, io, events))
    return kExitUsage;
  metrics.observe(*client);
  events::EventSink* sink = metrics.sink;
  detail::Run run{.options = options,
                  .events = *sink,
                  .io = io,
                  .client = std::move(client),
                  .metrics = metrics.server.get()};

  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec)
          return;
        run.on_signal(signal);
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  bool finished = false;
  asio::co_spawn(io, run.main(), [&](std::exception_ptr e) {
    finished = true;
    signals.cancel();
    if (e) {
      spdlog::critical("internal error: {}", exception_message(e));
      run.exit_code = kExitHalted;
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
