#define BOOST_TEST_MODULE kube_client_concurrency
// ClientOptions::max_requests_in_flight against an in-process cnimig-sim: the
// simulator's report counts the requests it holds at once and its open
// connections, and its latency fault keeps every request in progress for a
// while, so an uncapped client would have all of them there together.

#include <chrono>
#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/kube/client.hpp"
#include "cnimig/kube/watch_stream.hpp"
#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulator.hpp"

namespace asio = boost::asio;
using namespace cnimig;
using namespace cnimig::kube;
using namespace std::chrono_literals;

namespace {

std::uint64_t count(const boost::json::object& report, std::string_view key) {
  return boost::json::value_to<std::uint64_t>(report.at("connections").at(key));
}

struct Cluster {
  sim::Simulator sim;
  explicit Cluster(sim::SimulatorOptions options)
      : sim(std::move(options), sim::cluster_model_factory()) {
    BOOST_TEST_REQUIRE(sim.start().has_value());
  }
  std::unique_ptr<Client> client(asio::io_context& io, std::size_t max_in_flight) {
    ClientConfig c;
    c.server = sim.url();
    c.ca_pem = sim.ca_pem();
    c.token = sim.token();
    c.description = "cnimig-sim";
    ClientOptions o;
    o.max_requests_in_flight = max_in_flight;
    o.max_idle_connections = max_in_flight;
    auto client = Client::create(io.get_executor(), std::move(c), o);
    BOOST_TEST_REQUIRE(client.has_value());
    return std::move(*client);
  }
  // Read once the simulator's thread has ended: its state is ours then.
  boost::json::object final_report() {
    sim.stop();
    return sim.report();
  }
};

asio::awaitable<void> get_version(Client& client, int& succeeded) {
  HttpRequest req;
  req.target = "/version";
  auto r = co_await client.request(req);
  if (r)
    ++succeeded;
}

struct Burst {
  int succeeded = 0;
  boost::json::object report;
};

Burst burst(std::size_t max_in_flight, int requests) {
  sim::SimulatorOptions options;
  options.nodes = 2;
  options.faults.latency = 100ms;
  Cluster cluster(options);
  asio::io_context io;
  auto client = cluster.client(io, max_in_flight);
  Burst out;
  for (int i = 0; i < requests; ++i)
    asio::co_spawn(io, get_version(*client, out.succeeded), asio::detached);
  io.run();
  out.report = cluster.final_report();
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_hundred_gets_never_exceed_the_cap) {
  const auto b = burst(8, 200);
  BOOST_TEST(b.succeeded == 200);
  BOOST_TEST_MESSAGE("peak requests in progress " << count(b.report, "peak_requests_in_progress")
                                                  << ", peak connections "
                                                  << count(b.report, "peak_open"));
  BOOST_TEST(count(b.report, "peak_requests_in_progress") <= 8u);
  // The pool keeps as many idle connections as the cap: none is ever closed
  // and re-opened, so the server never holds more than the cap either.
  BOOST_TEST(count(b.report, "peak_open") <= 8u);
  BOOST_TEST(count(b.report, "accepted") <= 8u);
  // Capped, not serialised: with every request held 100 ms by the server the
  // next ones were sent meanwhile.
  BOOST_TEST(count(b.report, "peak_requests_in_progress") >= 2u);
}

BOOST_AUTO_TEST_CASE(a_cap_of_one_serialises) {
  const auto b = burst(1, 20);
  BOOST_TEST(b.succeeded == 20);
  BOOST_TEST(count(b.report, "peak_requests_in_progress") == 1u);
  BOOST_TEST(count(b.report, "accepted") == 1u);
}

namespace {

struct WatchOutcome {
  bool bookmark_seen = false;
  bool got = false;
};

// Holds a watch stream open (a bookmark proves it streams), then asks for
// something else with the client's only slot.
asio::awaitable<void> watch_then_get(Client& client, WatchOutcome& out) {
  WatchStream watch(client, ResourcePath::core("nodes"));
  for (;;) {
    auto ev = co_await watch.next();
    if (!ev)
      co_return;
    if (ev->type == WatchEventType::bookmark)
      break;
  }
  out.bookmark_seen = true;
  HttpRequest req;
  req.target = "/version";
  auto r = co_await client.request(req);
  out.got = r.has_value();
  watch.close();
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_open_watch_takes_no_slot) {
  sim::SimulatorOptions options;
  options.nodes = 2;
  options.bookmark_interval = 50ms;
  Cluster cluster(options);
  asio::io_context io;
  auto client = cluster.client(io, 1);
  WatchOutcome out;
  asio::co_spawn(io, watch_then_get(*client, out), asio::detached);
  // A bound for the failure mode (the GET queued behind the watch until the
  // server ends it, minutes later), not a synchronisation.
  io.run_for(60s);
  BOOST_TEST_REQUIRE(out.bookmark_seen);
  BOOST_TEST(out.got);
  (void)cluster.final_report();
}
