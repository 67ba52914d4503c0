// `cnimig-agent status`, the I/O half: one synced read of the cluster and the
// Lease, then status_report's pure functions.

#include "cnimig/agent/status_command.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/cluster_cache.hpp"
#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/agent/migration_inputs.hpp"
#include "cnimig/agent/status_report.hpp"
#include "cnimig/common/exception_message.hpp"
#include "cnimig/common/exit_code.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/client_config.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// The first actions shown: a decision can start hundreds of nodes' writes.
constexpr std::size_t kNextShown = 12;

struct StatusRun {
  const StatusOptions& options;
  kube::Client& client;
  std::map<std::string, ManifestBundle> bundles;
  std::optional<StatusReport> report;
  int exit_code = kExitDone;

  asio::awaitable<void> main();
  asio::awaitable<LeaseStatus> read_lease(std::int64_t now);
};

asio::awaitable<LeaseStatus> StatusRun::read_lease(std::int64_t now) {
  const auto& l = options.config.lease;
  const auto path =
      kube::ResourcePath::of("coordination.k8s.io", "v1", "leases").in(l.namespace_).named(l.name);
  auto lease = co_await client.get(path, kube::RequestOptions());
  const auto name = l.namespace_ + "/" + l.name;
  if (!lease) {
    if (lease.error().code != Errc::not_found)
      spdlog::warn("cannot read the Lease {}: {}", name, lease.error().describe());
    co_return lease_status(name, nullptr, now);
  }
  co_return lease_status(name, &*lease, now);
}

asio::awaitable<void> StatusRun::main() {
  const auto settings = migration_settings(options.config);
  ClusterCache cache(client, settings.annotation_prefix, workloads_of_interest(settings, bundles));
  cache.track_bundles(bundles);
  auto synced = co_await (cache.wait_synced(options.config.timeouts.gate) || cache.run());
  cache.stop();
  if (synced.index() != 0 || !std::get<0>(synced)) {
    spdlog::error("could not list the cluster within {}s",
                  options.config.timeouts.gate.count() / 1000);
    exit_code = kExitUnreachable;
    co_return;
  }
  const auto& snapshot = cache.snapshot();
  // The server's clock, as the driver uses it (cut-offs, the Lease's expiry).
  const auto server = client.server_clock().earliest(std::chrono::steady_clock::now());
  const std::int64_t now = std::chrono::floor<std::chrono::seconds>(
                               server.value_or(std::chrono::system_clock::now()).time_since_epoch())
                               .count();
  const auto& p = options.config.parallelism;
  migrate::Budget budget;
  budget.max_unavailable = p.max_unavailable.resolve(snapshot.nodes.size());
  budget.max_parallel_nodes = std::min<std::size_t>(p.max_parallel_nodes, budget.max_unavailable);
  auto lease = co_await read_lease(now);
  report = make_status(snapshot, now, settings, budget, std::move(lease), kNextShown);
}

}  // namespace

int run_status(const StatusOptions& options, std::FILE* out) {
  kube::LoadOptions load;
  load.kubeconfig = options.kubeconfig;
  load.context = options.context;
  auto client_config = kube::load_client_config(load);
  if (!client_config) {
    spdlog::error("{}", client_config.error().message);
    return kExitUnreachable;
  }
  const auto& c = options.config;
  auto bundles = load_bundles(c);
  if (!bundles) {
    spdlog::error("{}", bundles.error().message);
    return kExitUsage;
  }
  asio::io_context io;
  kube::ClientOptions client_options;
  client_options.user_agent = kStatusUserAgent;
  auto client =
      kube::Client::create(io.get_executor(), std::move(*client_config), std::move(client_options));
  if (!client) {
    spdlog::error("{}", client.error().message);
    return kExitUnreachable;
  }
  StatusRun run{options, **client, std::move(*bundles), std::nullopt, kExitDone};
  asio::co_spawn(io, run.main(), [&](std::exception_ptr e) {
    if (e) {
      spdlog::critical("internal error: {}", exception_message(e));
      run.exit_code = kExitUnreachable;
    }
  });
  io.run();
  if (run.exit_code != kExitDone || !run.report)
    return run.exit_code == kExitDone ? kExitUnreachable : run.exit_code;
  const auto text = options.json ? boost::json::serialize(status_json(*run.report)) + "\n"
                                 : render_status_table(*run.report);
  std::fputs(text.c_str(), out);
  std::fflush(out);
  return kExitDone;
}

}  // namespace cnimig::agent
