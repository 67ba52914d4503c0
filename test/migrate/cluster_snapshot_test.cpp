#include "cnimig/migrate/cluster_snapshot.hpp"

#include <boost/test/unit_test.hpp>

using cnimig::migrate::NodeState;
using cnimig::migrate::WorkloadState;

BOOST_AUTO_TEST_SUITE(cluster_snapshot)

BOOST_AUTO_TEST_CASE(a_node_selector_picks_nodes_holding_every_label) {
  NodeState node;
  node.name = "node-1";
  node.labels = {{"kubernetes.io/os", "linux"}, {"node-role.kubernetes.io/cilium", "true"}};
  WorkloadState w;
  BOOST_TEST(w.selects(node));  // no selector: every node
  w.node_selector = {{"node-role.kubernetes.io/cilium", "true"}};
  BOOST_TEST(w.selects(node));
  w.node_selector["kubernetes.io/os"] = "linux";
  BOOST_TEST(w.selects(node));
  w.node_selector["node-role.kubernetes.io/cilium"] = "false";  // value differs
  BOOST_TEST(!w.selects(node));
  w.node_selector = {{"node-role.kubernetes.io/calico-cilium", "true"}};  // key absent
  BOOST_TEST(!w.selects(node));
}

BOOST_AUTO_TEST_SUITE_END()
