// BudgetWatch against an in-process cnimig-sim: it names the budget that
// selects a pod, and an eviction its budget refused is woken by the budget
// (the replacement of the pod evicted before it turned Ready), never by the
// fallback timer.

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/budget_watch.hpp"
#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulator.hpp"
#include "cnimig/wire/object_fields.hpp"

#include "simulator_client.hpp"

namespace asio = boost::asio;
using namespace cnimig;
using namespace std::chrono_literals;

namespace {

struct Seen {
  bool synced = false;
  std::string selected;         // the budget of a worker pod
  std::string other_namespace;  // the same labels in another namespace
  int evicted = 0;
  int refused = 0;
  int woken_by_budget = 0;
  int woken_otherwise = 0;
};

asio::awaitable<void> evict_two_workers(kube::Client& client, agent::BudgetWatch& budgets,
                                        Seen& seen) {
  seen.synced = co_await budgets.wait_synced(30s);
  if (!seen.synced)
    co_return;
  // Until every worker is Ready the budget allows none (and pods that are
  // not Ready are evicted whatever it says).
  const std::string budget = "apps/worker";
  const auto settled = co_await budgets.queue().wait(budget, budgets.queue().ticket(), 0, 120s);
  BOOST_TEST_REQUIRE((settled == agent::BudgetQueue::Wake::budget));
  kube::ListOptions workers;
  workers.label_selector = "app.kubernetes.io/name=worker";
  const auto path = kube::ResourcePath::core("pods").in("apps");
  auto pods = co_await client.list(path, workers);
  BOOST_TEST_REQUIRE(pods.has_value());
  BOOST_TEST_REQUIRE(pods->items.size() >= 2u);
  const auto* labels = wire::obj(wire::meta(pods->items[0]), "labels");
  seen.selected = budgets.selecting("apps", labels);
  seen.other_namespace = budgets.selecting("default", labels);
  // The budget allows one disruption at a time: the second eviction is
  // refused until the first pod's replacement is Ready.
  for (std::size_t i = 0; i < 2; ++i) {
    const auto name = std::string(wire::name(pods->items[i]));
    const auto ticket = budgets.queue().ticket();
    for (int attempt = 0; attempt < 20; ++attempt) {
      const auto version = budgets.version();
      kube::DeleteOptions options;
      options.request.max_attempts = 1;
      auto r = co_await client.evict("apps", name, options);
      if (r) {
        ++seen.evicted;
        break;
      }
      BOOST_TEST_REQUIRE((r.error().code == Errc::too_many_requests), r.error().describe());
      ++seen.refused;
      const auto woke = co_await budgets.queue().wait(budget, ticket, version, 120s);
      ++(woke == agent::BudgetQueue::Wake::budget ? seen.woken_by_budget : seen.woken_otherwise);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_refused_eviction_is_woken_by_its_budget) {
  sim::SimulatorOptions options;
  options.nodes = 2;
  options.pods_per_node = 10;
  options.time_scale = 0.05;
  sim::Simulator simulator(options, sim::cluster_model_factory());
  asio::io_context io;
  test::SimulatorClient connected(simulator, io);
  agent::BudgetWatch budgets(*connected.client);
  Seen seen;
  // The watch runs until cancelled, as beside a migration.
  asio::cancellation_signal stop_watch;
  asio::co_spawn(io, budgets.run(),
                 asio::bind_cancellation_slot(stop_watch.slot(), [](std::exception_ptr) {}));
  asio::co_spawn(io, evict_two_workers(*connected.client, budgets, seen),
                 [&](std::exception_ptr e) {
                   stop_watch.emit(asio::cancellation_type::terminal);
                   if (e)
                     std::rethrow_exception(e);
                 });
  io.run_for(300s);
  simulator.stop();
  BOOST_TEST_REQUIRE(seen.synced);
  BOOST_TEST(seen.selected == "apps/worker");
  BOOST_TEST(seen.other_namespace == "");
  BOOST_TEST(seen.evicted == 2);
  BOOST_TEST(seen.refused >= 1);
  BOOST_TEST(seen.woken_by_budget == seen.refused);
  BOOST_TEST(seen.woken_otherwise == 0);
}
