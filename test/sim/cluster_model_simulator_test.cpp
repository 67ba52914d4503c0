#define BOOST_TEST_MODULE sim cluster model behind the HTTPS API
// The full model plugged into Simulator: the default cluster converges, the
// report carries the oracle's counters, and PDB-aware eviction sees the
// disruption controller's status (which forgets evicted pods once gone).
#include <future>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulator.hpp"

#include "cluster_model.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using namespace cnimig::sim;

namespace {

struct Client {
  explicit Client(Simulator& sim) : sim(sim), tls(asio::ssl::context::tls_client), stream(io, tls) {
    tls.add_certificate_authority(asio::buffer(sim.ca_pem()));
    tls.set_verify_mode(asio::ssl::verify_peer);
    const auto port =
        static_cast<unsigned short>(std::stoi(sim.url().substr(sim.url().rfind(':') + 1)));
    beast::get_lowest_layer(stream).connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream.handshake(asio::ssl::stream_base::client);
  }
  http::response<http::string_body> request(http::verb verb, const std::string& target,
                                            std::string body = {}) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + sim.token());
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = std::move(body);
    }
    req.prepare_payload();
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res;
  }
  Simulator& sim;
  asio::io_context io;
  asio::ssl::context tls;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

// Resolves once the model has nothing left to do (checked on the simulator's
// thread, re-armed with a timer: no sleeping in the test thread).
struct SettledProbe : std::enable_shared_from_this<SettledProbe> {
  SettledProbe(asio::io_context& io, ClusterModel& model) : timer(io), model(model) {}
  void check() {
    if (model.controllers_idle() && model.kubelet_queue() == 0) {
      done.set_value(model.report());
      return;
    }
    timer.expires_after(std::chrono::milliseconds(2));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec)
        self->check();
    });
  }
  asio::steady_timer timer;
  ClusterModel& model;
  std::promise<json::object> done;
};

json::object settle(Simulator& sim, ClusterModel& model) {
  auto probe = std::make_shared<SettledProbe>(sim.io(), model);
  auto f = probe->done.get_future();
  asio::post(sim.io(), [probe] { probe->check(); });
  BOOST_REQUIRE(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  return f.get();
}

}  // namespace

BOOST_AUTO_TEST_CASE(default_cluster_served_and_pdb_eviction) {
  SimulatorOptions options;
  options.nodes = 3;
  options.pods_per_node = 2;
  options.time_scale = 0.001;
  ClusterModel* model = nullptr;
  auto factory = cluster_model_factory();
  Simulator sim(options, [&](asio::io_context& io, ObjectStore& store, ApiHandler& api,
                             const SimulatorOptions& o) {
    auto c = factory(io, store, api, o);
    model = dynamic_cast<ClusterModel*>(c.get());
    return c;
  });
  BOOST_TEST_REQUIRE(sim.start().has_value());
  BOOST_TEST_REQUIRE(model != nullptr);
  const auto settled = settle(sim, *model);
  BOOST_TEST(settled.at("pods").at("ready") == settled.at("pods").at("total"));

  Client c(sim);
  auto report = json::parse(c.request(http::verb::get, "/sim/v1/report").body());
  BOOST_TEST_MESSAGE(json::serialize(report));
  const auto pods = json::parse(
      c.request(http::verb::get,
                "/api/v1/namespaces/apps/pods?labelSelector=app.kubernetes.io%2Fname%3Dweb")
          .body());
  const auto& items = pods.at("items").as_array();
  BOOST_TEST_REQUIRE(items.size() == 2u);
  auto evict = [&](const json::value& pod) {
    const std::string name(pod.at("metadata").at("name").as_string());
    json::object body{{"apiVersion", "policy/v1"},
                      {"kind", "Eviction"},
                      {"metadata", json::object{{"name", name}, {"namespace", "apps"}}}};
    return c
        .request(http::verb::post, "/api/v1/namespaces/apps/pods/" + name + "/eviction",
                 json::serialize(body))
        .result_int();
  };
  // web: 2 replicas, maxUnavailable 10% -> one disruption allowed, not two.
  BOOST_TEST(evict(items[0]) == 201);
  BOOST_TEST(evict(items[1]) == 429);
  // The replacement arrives; the budget allows one disruption again.
  settle(sim, *model);
  const auto pdb = json::parse(
      c.request(http::verb::get, "/apis/policy/v1/namespaces/apps/poddisruptionbudgets/web")
          .body());
  BOOST_TEST(pdb.at("status").at("currentHealthy").to_number<int>() == 2);
  BOOST_TEST(pdb.at("status").at("disruptionsAllowed").to_number<int>() == 1);
  // The evicted pod is gone, so it left disruptedPods (as Kubernetes' disruption
  // controller drops it): the budget does not grow with every eviction.
  const auto* disrupted = pdb.at("status").as_object().if_contains("disruptedPods");
  BOOST_TEST((disrupted == nullptr ||
              !disrupted->as_object().contains(items[0].at("metadata").at("name").as_string())),
             json::serialize(pdb.at("status")));
  sim.stop();
}
