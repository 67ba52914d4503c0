#include "cnimig/probe/connectivity_check.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cnimig::probe {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kDetailLimit = 512;  // keep events one readable line

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  if (text.size() > kDetailLimit) {
    text.resize(kDetailLimit);
    text += "...";
  }
  return text;
}

// Shared by the workers of one check; all on one executor, so no locking.
struct Work {
  std::vector<ProbeTarget> targets;
  std::vector<PodProbeResult> results;
  std::size_t next = 0;
  std::size_t in_flight = 0;
  std::size_t peak = 0;
};

asio::awaitable<PodProbeResult> probe_one(PodExecutor& executor, const ProbeTarget& target,
                                          const CheckSettings& settings) {
  PodProbeResult result;
  result.target = target;
  const auto start = Clock::now();
  asio::steady_timer deadline(co_await asio::this_coro::executor, settings.probe_timeout);
  // The executor has its own deadline; this one also covers an executor that ignores it.
  auto outcome = co_await (executor.exec(target, settings.command, settings.probe_timeout) ||
                           deadline.async_wait(asio::use_awaitable));
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (outcome.index() == 1) {
    result.detail =
        "probe timed out after " + std::to_string(settings.probe_timeout.count()) + "ms";
    co_return result;
  }
  auto& exec = std::get<0>(outcome);
  if (!exec) {
    result.detail = trimmed(exec.error().describe());
    result.exec_error = exec.error();
    co_return result;
  }
  result.exit_code = exec->exit_code;
  result.passed = exec->exit_code == 0;
  if (!result.passed) {
    result.detail = trimmed(exec->stderr_text.empty() ? exec->stdout_text : exec->stderr_text);
  }
  co_return result;
}

asio::awaitable<void> worker(PodExecutor& executor, Work& work, const CheckSettings& settings) {
  while (work.next < work.targets.size()) {
    const std::size_t index = work.next++;
    work.peak = std::max(work.peak, ++work.in_flight);
    work.results[index] = co_await probe_one(executor, work.targets[index], settings);
    --work.in_flight;
  }
}

}  // namespace

asio::awaitable<ConnectivityReport> run_connectivity_check(PodExecutor& executor,
                                                           std::vector<ProbeTarget> targets,
                                                           const CheckSettings& settings) {
  ConnectivityReport report;
  const auto start = Clock::now();
  if (targets.empty()) {
    report.passed = false;
    co_return report;
  }
  Work work;
  work.targets = std::move(targets);
  work.results.resize(work.targets.size());

  const std::size_t workers = std::clamp<std::size_t>(settings.parallelism, 1, work.targets.size());
  auto ex = co_await asio::this_coro::executor;
  using Op = decltype(asio::co_spawn(ex, worker(executor, work, settings), asio::deferred));
  std::vector<Op> ops;
  ops.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) {
    ops.push_back(asio::co_spawn(ex, worker(executor, work, settings), asio::deferred));
  }
  // Every worker is owned by this group: cancelling the check cancels them all.
  auto [order, exceptions] =
      co_await asio::experimental::make_parallel_group(std::move(ops))
          .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  for (const auto& e : exceptions) {
    if (e)
      std::rethrow_exception(e);
  }

  report.probed = work.results.size();
  report.peak_in_flight = work.peak;
  for (auto& r : work.results) {
    if (!r.passed)
      report.failures.push_back(std::move(r));
  }
  report.passed = report.failures.empty();
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  co_return report;
}

}  // namespace cnimig::probe
