// Found against a real kube-apiserver: a pod's status.hostIP is its node's
// InternalIP. The kubelet model used to make one up from the node's index.
#define BOOST_TEST_MODULE sim node address
#include <boost/test/unit_test.hpp>

#include "sim_cluster_harness.hpp"

using namespace cnimig::sim;
using cnimig::sim::test::Harness;
namespace json = boost::json;

BOOST_AUTO_TEST_CASE(pods_get_their_nodes_internal_ip_as_host_ip) {
  Harness h;
  h.model.bootstrap(2, 0);
  BOOST_TEST_REQUIRE(h.settle());
  // node-1 re-addressed, as a node registered by its own kubelet would be.
  auto node = h.get(h.nodes, "", "node-1");
  node["status"].as_object()["addresses"] =
      json::array{json::object{{"type", "InternalIP"}, {"address", "127.0.1.2"}}};
  BOOST_TEST_REQUIRE(h.store.update_status(h.nodes, std::move(node)).has_value());
  // Its source CNI pod restarts and comes back with the node's address.
  for (const auto& p : h.store.pods_on_node("node-1"))
    (void)h.store.remove(h.pods, p->at("metadata").at("namespace").as_string(),
                         p->at("metadata").at("name").as_string());
  BOOST_TEST_REQUIRE(h.settle());
  const auto pods = h.store.pods_on_node("node-1");
  BOOST_TEST_REQUIRE(!pods.empty());
  for (const auto& p : pods) {
    BOOST_TEST(p->at("status").at("hostIP").as_string() == "127.0.1.2");
    const auto* host_network = p->at("spec").as_object().if_contains("hostNetwork");
    if (host_network && host_network->is_bool() && host_network->as_bool())
      BOOST_TEST(p->at("status").at("podIP").as_string() == "127.0.1.2");
  }
}
