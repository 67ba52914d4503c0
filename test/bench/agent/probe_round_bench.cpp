#define BOOST_TEST_MODULE agent connectivity round benchmark
// Issue 7 (d): one connectivity round over 2,000 knet-stress pods when every
// exec takes 100 ms, with the probe's bounded fan-out (connectivity.parallelism,
// 32 by default). Two measurements:
//  - through the real path: the agent (--steps preflight) installs knet-stress
//    on a 1,000-node cnimig-sim and runs its check, every exec a WebSocket
//    exec over HTTPS that the simulator delays by 100 ms (--faults latency=100ms,
//    which delays every request, the exec upgrade included);
//  - the probe alone, against a PodExecutor whose exec is a 100 ms timer
//    (the fan-out's own cost, without TLS and the simulator's CPU).
// Implied concurrency = pods x 100 ms / round time.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cnimig/agent/agent_run.hpp"
#include "cnimig/probe/connectivity_check.hpp"

#include "bench_support.hpp"

using namespace cnimig;
using namespace cnimig::bench;
namespace asio = boost::asio;

namespace {

constexpr double kExecMs = 100;

struct TimerExecutor final : probe::PodExecutor {
  asio::awaitable<Result<probe::ExecOutcome>> exec(const probe::ProbeTarget&,
                                                   const std::vector<std::string>&,
                                                   std::chrono::milliseconds) override {
    asio::steady_timer t(co_await asio::this_coro::executor,
                         std::chrono::milliseconds(static_cast<int>(kExecMs)));
    co_await t.async_wait(asio::use_awaitable);
    co_return probe::ExecOutcome{};
  }
};

asio::awaitable<probe::ConnectivityReport> check(TimerExecutor& ex,
                                                 std::vector<probe::ProbeTarget> targets,
                                                 probe::CheckSettings settings) {
  co_return co_await probe::run_connectivity_check(ex, std::move(targets), settings);
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_with_a_100ms_timer_executor) {
  const auto pods = static_cast<std::size_t>(env_double("CNIMIG_BENCH_PROBE_PODS", 2000));
  std::vector<probe::ProbeTarget> targets;
  for (std::size_t i = 0; i < pods; ++i)
    targets.push_back({"knet-stress", "knet-stress-" + std::to_string(i), "node"});
  probe::CheckSettings settings;
  settings.parallelism = default_config().connectivity.parallelism;
  asio::io_context io;
  TimerExecutor ex;
  probe::ConnectivityReport report;
  asio::co_spawn(io, check(ex, std::move(targets), settings),
                 [&](std::exception_ptr e, probe::ConnectivityReport r) {
                   if (e)
                     std::rethrow_exception(e);
                   report = std::move(r);
                 });
  io.run();
  BOOST_TEST_REQUIRE(report.passed);
  BOOST_TEST(report.probed == pods);
  const auto ms = static_cast<double>(report.duration.count());
  figure("probe_timer_pods", static_cast<double>(pods), "pods");
  figure("probe_timer_parallelism", settings.parallelism, "execs");
  figure("probe_timer_round_ms", ms, "ms");
  figure("probe_timer_implied_concurrency", static_cast<double>(pods) * kExecMs / ms, "execs");
  figure("probe_timer_peak_in_flight", static_cast<double>(report.peak_in_flight), "execs");
}

BOOST_AUTO_TEST_CASE(round_through_websocket_exec_against_the_simulator) {
  const auto nodes = static_cast<std::size_t>(env_double("CNIMIG_BENCH_PROBE_PODS", 2000)) / 2;
  InProcessSim sim(nodes, 0, 0.05, "latency=100ms");
  sim.wait_settled(std::chrono::seconds(600));
  agent::AgentRunOptions options;
  options.config = default_config();
  options.apply = true;
  options.steps = config::StepRange{config::Step::preflight, config::Step::preflight};
  options.kubeconfig = sim.kubeconfig;
  // First run: installs knet-stress and checks once. Its check may see fewer
  // pods than exist (see the README's Performance section), so the measured
  // round is a second run's, on the settled cluster.
  CaptureSink first;
  BOOST_TEST_REQUIRE(agent::run_agent(options, first) == 0);
  if (const auto* p = first.find("probe.passed"))
    figure("probe_sim_first_run_pods", static_cast<double>(number(p->at("pods"))), "pods");
  sim.wait_settled(std::chrono::seconds(600));
  CaptureSink sink;
  const int code = agent::run_agent(options, sink);
  BOOST_TEST_REQUIRE(code == 0);
  std::vector<const boost::json::object*> rounds;
  for (const auto& e : sink.events) {
    const auto name = e.at("event").as_string();
    if (name == "probe.passed" || name == "probe.failed")
      rounds.push_back(&e);
  }
  BOOST_TEST_REQUIRE(!rounds.empty());
  const auto* passed = sink.find("probe.passed");
  BOOST_TEST_REQUIRE(passed != nullptr);
  const auto pods = static_cast<double>(number(passed->at("pods")));
  const auto ms = static_cast<double>(number(passed->at("duration_ms")));
  BOOST_TEST(pods == static_cast<double>(2 * nodes));
  figure("probe_sim_pods", pods, "pods");
  figure("probe_sim_exec_latency", kExecMs, "ms");
  figure("probe_sim_rounds", static_cast<double>(rounds.size()), "rounds");
  figure("probe_sim_round_ms", ms, "ms");
  figure("probe_sim_implied_concurrency", pods * kExecMs / ms, "execs");
}
