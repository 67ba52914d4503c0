#define BOOST_TEST_MODULE probe
#include "cnimig/probe/connectivity_check.hpp"

#include <map>
#include <optional>
#include <set>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

namespace asio = boost::asio;
using namespace cnimig;
using namespace cnimig::probe;
using namespace std::chrono_literals;

namespace {

// Answers after `latency`; pods listed in `failing` exit 1, in `broken` fail to exec,
// in `hanging` never answer (until cancelled).
class FakeExecutor : public PodExecutor {
 public:
  std::chrono::milliseconds latency{5ms};
  std::map<std::string, std::string> failing;
  std::set<std::string> broken;
  std::set<std::string> hanging;
  std::size_t in_flight = 0;
  std::size_t peak = 0;
  std::size_t calls = 0;
  std::vector<std::string> last_command;

  asio::awaitable<Result<ExecOutcome>> exec(const ProbeTarget& target,
                                            const std::vector<std::string>& command,
                                            std::chrono::milliseconds) override {
    ++calls;
    last_command = command;
    peak = std::max(peak, ++in_flight);
    struct Leave {
      std::size_t& n;
      ~Leave() { --n; }
    } leave{in_flight};
    asio::steady_timer timer(co_await asio::this_coro::executor, hanging.contains(target.pod)
                                                                     ? std::chrono::milliseconds(1h)
                                                                     : latency);
    co_await timer.async_wait(asio::use_awaitable);
    if (broken.contains(target.pod))
      co_return make_error(Errc::transport, "connection reset");
    if (auto it = failing.find(target.pod); it != failing.end())
      co_return ExecOutcome{1, "", it->second};
    co_return ExecOutcome{0, "ok", ""};
  }
};

std::vector<ProbeTarget> pods(std::size_t n) {
  std::vector<ProbeTarget> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(
        {"knet-stress", "knet-stress-" + std::to_string(i), "node-" + std::to_string(i / 2)});
  }
  return out;
}

ConnectivityReport run(FakeExecutor& fake, std::vector<ProbeTarget> targets,
                       CheckSettings settings) {
  asio::io_context io;
  std::optional<ConnectivityReport> report;
  asio::co_spawn(io, run_connectivity_check(fake, std::move(targets), settings),
                 [&](std::exception_ptr e, ConnectivityReport r) {
                   if (e)
                     std::rethrow_exception(e);
                   report = std::move(r);
                 });
  io.run();
  BOOST_TEST_REQUIRE(report.has_value());
  return *report;
}

}  // namespace

BOOST_AUTO_TEST_CASE(all_pods_pass) {
  FakeExecutor fake;
  CheckSettings settings;
  settings.parallelism = 4;
  auto report = run(fake, pods(10), settings);
  BOOST_TEST(report.passed);
  BOOST_TEST(report.probed == 10u);
  BOOST_TEST(fake.calls == 10u);
  BOOST_TEST(report.failures.empty());
  BOOST_TEST(fake.last_command == settings.command);
}

BOOST_AUTO_TEST_CASE(fan_out_is_bounded_and_reached) {
  for (unsigned parallelism : {1u, 3u, 8u, 64u}) {
    FakeExecutor fake;
    CheckSettings settings;
    settings.parallelism = parallelism;
    auto report = run(fake, pods(20), settings);
    const auto expected = std::min<std::size_t>(parallelism, 20);
    BOOST_TEST(fake.peak == expected);
    BOOST_TEST(report.peak_in_flight == expected);
    BOOST_TEST(report.passed);
  }
}

BOOST_AUTO_TEST_CASE(one_failing_pod_fails_the_check_with_its_stderr) {
  FakeExecutor fake;
  fake.failing["knet-stress-3"] = "unreachable: 10.0.1.4\n";
  auto report = run(fake, pods(6), CheckSettings{});
  BOOST_TEST(!report.passed);
  BOOST_TEST_REQUIRE(report.failures.size() == 1u);
  BOOST_TEST(report.failures[0].target.pod == "knet-stress-3");
  BOOST_TEST(report.failures[0].target.node == "node-1");
  BOOST_TEST(report.failures[0].exit_code == 1);
  BOOST_TEST(report.failures[0].detail == "unreachable: 10.0.1.4");
}

BOOST_AUTO_TEST_CASE(exec_errors_and_timeouts_are_failures) {
  FakeExecutor fake;
  fake.broken.insert("knet-stress-0");
  fake.hanging.insert("knet-stress-1");
  CheckSettings settings;
  settings.probe_timeout = 50ms;
  auto report = run(fake, pods(4), settings);
  BOOST_TEST(!report.passed);
  BOOST_TEST_REQUIRE(report.failures.size() == 2u);
  BOOST_TEST(report.failures[0].detail.find("connection reset") != std::string::npos);
  BOOST_TEST(report.failures[0].exit_code == -1);
  BOOST_TEST(report.failures[1].detail.find("timed out") != std::string::npos);
  BOOST_TEST(fake.in_flight == 0u);  // the hanging exec was cancelled, not leaked
}

BOOST_AUTO_TEST_CASE(no_pods_is_not_a_pass) {
  FakeExecutor fake;
  auto report = run(fake, {}, CheckSettings{});
  BOOST_TEST(!report.passed);
  BOOST_TEST(report.probed == 0u);
}

BOOST_AUTO_TEST_CASE(cancellation_stops_every_probe) {
  FakeExecutor fake;
  for (std::size_t i = 0; i < 8; ++i)
    fake.hanging.insert("knet-stress-" + std::to_string(i));
  asio::io_context io;
  asio::cancellation_signal cancel;
  bool finished = false;
  std::exception_ptr error;
  CheckSettings settings;
  settings.parallelism = 4;
  asio::co_spawn(
      io, run_connectivity_check(fake, pods(8), settings),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, ConnectivityReport) {
        finished = true;
        error = e;
      }));
  // Cancel once all four workers are waiting on their execs.
  asio::steady_timer kick(io, 20ms);
  kick.async_wait([&](auto) { cancel.emit(asio::cancellation_type::terminal); });
  io.run();
  BOOST_TEST(finished);
  BOOST_TEST(static_cast<bool>(error));
  BOOST_TEST(fake.in_flight == 0u);
  BOOST_TEST(fake.calls == 4u);  // no new probe starts after cancellation
}
