// The attached simulator's pieces that need no API server: the mirror's
// rule for the status of pods the local kubelet runs, the Node object a
// node registers with, and the bootstrap objects sent to a real server.
#define BOOST_TEST_MODULE sim attach
#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "node_registration.hpp"
#include "object_mirror.hpp"
#include "remote_bootstrap.hpp"

using namespace cnimig::sim;
namespace json = boost::json;

namespace {
const ResourceType& pods() {
  return resource_type("", "pods");
}
json::object pod(const char* uid, json::object status, json::object annotations) {
  return json::object{{"metadata", json::object{{"name", "p"},
                                                {"namespace", "apps"},
                                                {"uid", uid},
                                                {"annotations", std::move(annotations)},
                                                {"managedFields", json::array{}}}},
                      {"spec", json::object{{"nodeName", "node-0"}}},
                      {"status", std::move(status)}};
}
}  // namespace

BOOST_AUTO_TEST_CASE(mirror_keeps_the_status_of_a_pod_the_kubelet_started) {
  const auto local = pod("u1", json::object{{"phase", "Running"}, {"hostIP", "127.0.1.1"}},
                         json::object{{"cnimig.sim/interfaces", "source"}});
  // An older remote state (the write-back has not landed) with a deletion.
  auto remote = pod("u1", json::object{{"phase", "Pending"}}, json::object{{"a", "b"}});
  remote["metadata"].as_object()["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  const auto merged = ObjectMirror::merge_local(pods(), remote, &local);
  BOOST_TEST(merged.at("status").at("phase").as_string() == "Running");
  BOOST_TEST(merged.at("metadata").as_object().contains("deletionTimestamp"));
  const auto& annotations = merged.at("metadata").at("annotations").as_object();
  BOOST_TEST(annotations.at("cnimig.sim/interfaces").as_string() == "source");
  BOOST_TEST(annotations.at("a").as_string() == "b");
  BOOST_TEST(!merged.at("metadata").as_object().contains("managedFields"));
}

BOOST_AUTO_TEST_CASE(mirror_takes_the_remote_pod_when_the_kubelet_has_not_started_it) {
  const auto unstarted = pod("u1", json::object{{"phase", "Pending"}}, {});
  const auto remote = pod("u1", json::object{{"phase", "Pending"}, {"qosClass", "BestEffort"}}, {});
  BOOST_TEST(ObjectMirror::merge_local(pods(), remote, &unstarted).at("status") ==
             remote.at("status"));
  // Another incarnation under the same name is a new pod.
  const auto old = pod("u0", json::object{{"phase", "Running"}, {"hostIP", "127.0.1.1"}}, {});
  BOOST_TEST(ObjectMirror::merge_local(pods(), remote, &old).at("status") == remote.at("status"));
}

BOOST_AUTO_TEST_CASE(node_registers_with_its_address_port_and_websocket_exec) {
  ClusterOptions options;
  options.source_pod_cidr = "10.244.0.0/16";
  const auto nodes = NodeRegistration::plan(options, 3, "127.0.1.");
  BOOST_TEST_REQUIRE(nodes.size() == 3u);
  BOOST_TEST(nodes[2].name == "node-2");
  BOOST_TEST(nodes[2].address == "127.0.1.3");
  const auto node = NodeRegistration::node_object(options, 2, nodes[2], 40123);
  const auto& status = node.at("status").as_object();
  BOOST_TEST(status.at("addresses").at(0).at("type").as_string() == "InternalIP");
  BOOST_TEST(status.at("addresses").at(0).at("address").as_string() == "127.0.1.3");
  BOOST_TEST(status.at("daemonEndpoints").at("kubeletEndpoint").at("Port").to_number<int>() ==
             40123);
  BOOST_TEST(status.at("declaredFeatures").at(0).as_string() == "ExtendWebSocketsToKubelet");
  BOOST_TEST(node.at("spec").at("podCIDR").as_string() == "10.244.2.0/24");
}

BOOST_AUTO_TEST_CASE(bootstrap_objects_come_in_dependency_order_as_a_client_sends_them) {
  ClusterOptions options;
  const auto objects = bootstrap_objects(options, 3, 2);
  BOOST_TEST_REQUIRE(!objects.empty());
  auto first_of = [&](std::string_view plural) {
    return std::find_if(objects.begin(), objects.end(),
                        [&](const auto& o) { return o.type->plural == plural; }) -
           objects.begin();
  };
  BOOST_TEST(objects.front().type->plural == "namespaces");
  BOOST_TEST(first_of("serviceaccounts") < first_of("daemonsets"));
  BOOST_TEST(first_of("configmaps") < first_of("daemonsets"));
  bool canal_account = false;
  for (const auto& [type, o] : objects) {
    BOOST_TEST(type->plural != "nodes");
    BOOST_TEST(type->plural != "pods");
    BOOST_TEST(!o.contains("status"));
    BOOST_TEST(!o.at("metadata").as_object().contains("uid"));
    BOOST_TEST(!o.at("metadata").as_object().contains("resourceVersion"));
    canal_account |= type->plural == "serviceaccounts" &&
                     o.at("metadata").at("name").as_string() == "canal" &&
                     o.at("metadata").at("namespace").as_string() == "kube-system";
  }
  BOOST_TEST(canal_account, "the source CNI's ServiceAccount is created");
}
