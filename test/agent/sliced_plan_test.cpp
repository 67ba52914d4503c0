// Plan mode's plan runs in slices on the io_context (sliced_plan.hpp): a
// signal that is pending when a long plan starts is handled at the first
// slice boundary and cancels the plan there, instead of after the whole plan.

#include "cnimig/agent/sliced_plan.hpp"

#include <csignal>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/test/unit_test.hpp>

#include "cluster_fixture.hpp"

namespace asio = boost::asio;
using namespace cnimig;
using namespace cnimig::migrate;

namespace {

struct Sliced {
  bool ended = false;
  std::optional<PlanRun> result;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sliced_plan)

BOOST_AUTO_TEST_CASE(completes_as_run_plan_does) {
  const auto s = MigrationSettings::defaults();
  test::FixtureOptions o;
  o.nodes = 6;
  o.knet_stress_installed = true;
  const SimulatedEffects effects(s);
  const Budget budget{2, 2};
  const Selection selection;
  const auto reference = run_plan(test::make_cluster(s, o), s, budget, selection, effects);
  BOOST_TEST_REQUIRE(reference.outcome.has_value());

  asio::io_context io;
  PlanRunner runner(test::make_cluster(s, o), s, budget, selection, effects);
  Sliced out;
  asio::co_spawn(io, agent::run_plan_sliced(runner, 3),
                 [&](std::exception_ptr e, std::optional<PlanRun> r) {
                   out.ended = e == nullptr;
                   out.result = std::move(r);
                 });
  io.run();
  BOOST_TEST_REQUIRE(out.ended);
  BOOST_TEST_REQUIRE(out.result.has_value());
  BOOST_TEST((out.result->actions == reference.actions));
  BOOST_TEST(out.result->rounds == reference.rounds);
  BOOST_TEST((out.result->outcome == reference.outcome));
  BOOST_TEST((out.result->final_snapshot == reference.final_snapshot));
}

BOOST_AUTO_TEST_CASE(sigterm_cancels_a_long_plan_between_slices) {
  const auto s = MigrationSettings::defaults();
  test::FixtureOptions o;
  o.nodes = 300;
  o.knet_stress_installed = true;
  const SimulatedEffects effects(s);
  const Budget budget{1, 1};
  const Selection selection;
  PlanRunner runner(test::make_cluster(s, o), s, budget, selection, effects);

  asio::io_context io;
  // As plan mode does: SIGTERM stops the run.
  asio::signal_set signals(io, SIGTERM);
  asio::cancellation_signal cancel;
  int received = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec)
      return;
    received = signal;
    cancel.emit(asio::cancellation_type::terminal);
  });
  Sliced out;
  asio::co_spawn(io, agent::run_plan_sliced(runner, 1),
                 asio::bind_cancellation_slot(cancel.slot(),
                                              [&](std::exception_ptr e, std::optional<PlanRun> r) {
                                                out.ended = e == nullptr;
                                                out.result = std::move(r);
                                              }));
  // Pending before the plan's first round: a plan that never returned to the
  // io_context would run to its end before the handler could run.
  BOOST_TEST_REQUIRE(::raise(SIGTERM) == 0);
  io.run();
  BOOST_TEST(received == SIGTERM);
  BOOST_TEST_REQUIRE(out.ended);
  BOOST_TEST(!out.result.has_value());
  BOOST_TEST(!runner.progress().outcome.has_value(), "the plan ran to its end first");
  BOOST_TEST(runner.progress().rounds > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
