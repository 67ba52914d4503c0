#pragma once
// Private to the agent module: one run of run_agent() and what its parts
// share. The wiring (client, metrics, signals, the run's stages) is in
// agent_run.cpp; the checks before the first write in
// agent_run_preflight.cpp; plan mode in agent_run_plan.cpp; --apply in
// agent_run_apply.cpp.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "cnimig/agent/action_executor.hpp"
#include "cnimig/agent/agent_run.hpp"
#include "cnimig/agent/cluster_cache.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/metrics_server.hpp"
#include "cnimig/agent/migration_driver.hpp"
#include "cnimig/agent/systemd_notifier.hpp"
#include "cnimig/common/exit_code.hpp"
#include "cnimig/events/event_sink.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/server_version.hpp"
#include "cnimig/lease/instance_lock.hpp"
#include "cnimig/migrate/action.hpp"
#include "cnimig/migrate/run_record.hpp"

namespace cnimig::agent::detail {

struct ExistingObjects;

// run_agent() names only what it sets (designated initializers): every
// other member has an initializer.
struct Run {
  const AgentRunOptions& options;
  events::EventSink& events;
  boost::asio::io_context& io;
  std::unique_ptr<kube::Client> client;
  std::map<std::string, ManifestBundle> bundles{};
  MetricsServer* metrics = nullptr;
  MigrationDriver* driver = nullptr;
  int stop_signal = 0;
  int exit_code = kExitDone;
  std::vector<std::string> preflight_warnings{};        // for the plan summary
  std::optional<kube::ServerVersion> server_version{};  // from GET /version
  // cilium-native (agent_run_native.cpp): the API serves the CiliumNodeConfig
  // at the version chosen, and the one found there (a resumed run).
  bool node_config_served = false;
  std::optional<boost::json::object> existing_node_config{};

  // agent_run.cpp: the run's stages, and SIGINT/SIGTERM.
  boost::asio::awaitable<void> main();
  boost::asio::awaitable<void> body();
  DriverSettings driver_settings() const;
  boost::asio::awaitable<int> work(ClusterCache& cache, const DriverSettings& settings);
  void on_signal(int signal);

  // agent_run_preflight.cpp: false (exit_code set, reported) stops the run.
  boost::asio::awaitable<bool> connect();
  bool load_bundles();
  boost::asio::awaitable<bool> check_permissions();
  int watches_failed(const Error& error);
  boost::asio::awaitable<bool> discover_cilium_node_config();

  // agent_run_plan.cpp
  boost::asio::awaitable<int> plan(ClusterCache& cache, const DriverSettings& settings);
  struct WriteChecks {
    ActionExecutor& executor;
    const migrate::RunRecord& record;
    std::vector<migrate::Action> todo;
    std::size_t next = 0;
    std::size_t failed = 0;
  };
  boost::asio::awaitable<std::size_t> check_writes(const ExistingObjects& existing,
                                                   const std::vector<migrate::Action>& actions);
  boost::asio::awaitable<void> check_worker(WriteChecks& checks);

  // agent_run_apply.cpp
  boost::asio::awaitable<int> apply(ClusterCache& cache, DriverSettings settings);
  bool lock_host(std::optional<lease::InstanceLock>& host_lock);
  ExecutorSettings executor_settings() const;
  ProgressHooks progress_hooks(ClusterCache& cache, SystemdNotifier& notifier,
                               const std::string& instance);
  boost::asio::awaitable<void> feed_watchdog(SystemdNotifier& notifier);
  int exit_code_of(const RunResult& result, const ClusterCache& cache,
                   const DriverSettings& settings,
                   std::chrono::steady_clock::time_point started) const;
};

}  // namespace cnimig::agent::detail
