// LeaseKeeper against an in-process cnimig-sim: a renewal refused with 403
// (or failing any other way) is repeated until the Lease would expire, and
// only then is the Lease lost; another holder is a loss at once.

#include <filesystem>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/kube/client_config.hpp"
#include "cnimig/lease/lease_keeper.hpp"
#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulator.hpp"

#include "simulator_client.hpp"

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace cnimig;
using namespace std::chrono_literals;

namespace {

struct Outcome {
  bool acquired_taken = false;
  std::optional<Error> taken;  // keep_renewed's error after another agent took the Lease
  bool acquired_forbidden = false;
  std::optional<Error> forbidden;  // ... after every Lease request got 403
};

config::LeaseSettings lease(const std::string& name) {
  config::LeaseSettings s;
  s.name = name;
  s.namespace_ = "kube-system";
  s.duration = 1s;  // renewed every 333 ms
  return s;
}

// keep_renewed(), bounded: a keeper that never gives up ends the test too.
asio::awaitable<std::optional<Error>> renew_until_lost(lease::LeaseKeeper& keeper) {
  asio::steady_timer guard(co_await asio::this_coro::executor, 30s);
  auto r = co_await (keeper.keep_renewed() || guard.async_wait(asio::use_awaitable));
  if (r.index() == 0 && std::get<0>(r).has_error())
    co_return std::get<0>(r).error();
  co_return std::nullopt;
}

asio::awaitable<void> scenario(kube::Client& client, Outcome& out) {
  // Another agent writes itself into our Lease.
  lease::LeaseKeeper first(client, lease("taken"), "me");
  out.acquired_taken = (co_await first.acquire()).has_value();
  if (out.acquired_taken) {
    const auto path = kube::ResourcePath::of("coordination.k8s.io", "v1", "leases")
                          .in("kube-system")
                          .named("taken");
    auto current = co_await client.get(path, kube::RequestOptions());
    if (current) {
      (*current)["spec"].as_object()["holderIdentity"] = "other";
      (void)co_await client.replace(path, *current, kube::WriteOptions());
    }
    out.taken = co_await renew_until_lost(first);
  }
  // Every Lease request refused from now on.
  lease::LeaseKeeper second(client, lease("refused"), "me");
  out.acquired_forbidden = (co_await second.acquire()).has_value();
  if (out.acquired_forbidden) {
    kube::HttpRequest put;
    put.method = kube::Method::put;
    put.target = "/sim/v1/faults";
    put.body = "forbidden=*:leases";
    put.content_type = "text/plain";
    if ((co_await client.request(put)).has_value())
      out.forbidden = co_await renew_until_lost(second);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lease_keeper_against_the_simulator)

BOOST_AUTO_TEST_CASE(a_failing_renewal_is_retried_until_expiry_another_holder_is_a_loss) {
  sim::SimulatorOptions options;
  options.nodes = 1;
  options.time_scale = 0.05;
  sim::Simulator simulator(options, sim::cluster_model_factory());
  asio::io_context io;
  test::SimulatorClient connected(simulator, io);
  Outcome out;
  asio::co_spawn(io, scenario(*connected.client, out), [](std::exception_ptr e) {
    if (e)
      std::rethrow_exception(e);
  });
  io.run_for(90s);
  simulator.stop();

  BOOST_TEST_REQUIRE(out.acquired_taken);
  BOOST_TEST_REQUIRE(out.taken.has_value(), "the keeper kept a Lease another agent holds");
  BOOST_TEST(out.taken->reason == "LeaseLost");
  BOOST_TEST(out.taken->message.find("was taken by other") != std::string::npos,
             out.taken->message);
  BOOST_TEST_REQUIRE(out.acquired_forbidden);
  BOOST_TEST_REQUIRE(out.forbidden.has_value(), "the keeper never gave up a Lease it cannot renew");
  // Lost by expiry after retrying, not at the first 403.
  BOOST_TEST((out.forbidden->code == Errc::timeout), out.forbidden->describe());
  BOOST_TEST(out.forbidden->message.find("expired") != std::string::npos, out.forbidden->message);
  BOOST_TEST(out.forbidden->message.find("forbidden") != std::string::npos, out.forbidden->message);
}

BOOST_AUTO_TEST_SUITE_END()
