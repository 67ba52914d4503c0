#define BOOST_TEST_MODULE sim multus delegates
// multus hands the source network to the delegate its conflist names; the
// simulator tells which CNI a delegate belongs to and fails the sandbox when
// it is not the CNI the nodes run (Canal's conflist on a Calico cluster).
#include "multus_delegates.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cni_config_selection.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {

const char* kCanal =
    R"({"name":"k8s-pod-network","plugins":[{"type":"calico","ipam":{"type":"host-local",
        "subnet":"usePodCidr"}},{"type":"portmap"}]})";
const char* kCalico =
    R"({"name":"k8s-pod-network","plugins":[{"type":"calico","ipam":{"type":"calico-ipam"}}]})";
const char* kFlannel = R"({"name":"cbr0","plugins":[{"type":"flannel"},{"type":"portmap"}]})";
const char* kCilium = R"({"name":"cilium","plugins":[{"type":"cilium-cni"},{"type":"sbr"}]})";

// multus-daemon-config with a source-first conflist delegating to `source`.
json::object config_map(const char* source) {
  const auto conflist = json::object{
      {"name", "multus-cni-network"},
      {"plugins", json::array{json::object{
                      {"type", "multus-shim"},
                      {"delegates", json::array{json::parse(source), json::parse(kCilium)}}}}}};
  return json::object{
      {"metadata", json::object{{"name", "multus-daemon-config"}, {"namespace", "kube-system"}}},
      {"data", json::object{{"daemon-config.json", R"({"cniVersion":"0.3.1"})"},
                            {"calico-primary.conflist", json::serialize(conflist)},
                            {"source-10-canal.conflist", kCanal}}}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_delegate_is_known_by_its_first_plugin) {
  BOOST_TEST(delegate_cni(json::parse(kCanal)) == "canal");
  BOOST_TEST(delegate_cni(json::parse(kCalico)) == "calico");
  BOOST_TEST(delegate_cni(json::parse(kFlannel)) == "flannel");
  BOOST_TEST(delegate_cni(json::parse(kCilium)) == "cilium");
  BOOST_TEST(delegate_cni(json::parse(R"({"name":"x","type":"bridge"})")) == "bridge");
}

BOOST_AUTO_TEST_CASE(the_source_delegate_must_be_the_nodes_cni) {
  BOOST_TEST(multus_delegate_problem("canal", config_map(kCanal)).empty());
  BOOST_TEST(multus_delegate_problem("calico", config_map(kCalico)).empty());
  BOOST_TEST(multus_delegate_problem("flannel", config_map(kFlannel)).empty());
  const auto wrong = multus_delegate_problem("calico", config_map(kCanal));
  BOOST_TEST(wrong.find("calico-primary.conflist: delegate k8s-pod-network is canal's config, "
                        "but the node runs calico") != std::string::npos,
             wrong);
  BOOST_TEST(!multus_delegate_problem("flannel", config_map(kCanal)).empty());
}

// The kubelet's sandbox through 00-multus.conflist fails on a wrong delegate;
// a node without multus is not affected.
BOOST_AUTO_TEST_CASE(a_wrong_delegate_fails_multus_sandboxes_only) {
  const auto both =
      static_cast<NetworkMask>(network_bit(Network::source) | network_bit(Network::cilium));
  const auto multus =
      static_cast<RoleMask>(role_bit(AgentRole::source) | role_bit(AgentRole::cilium) |
                            role_bit(AgentRole::multus_source_primary));
  const auto r = create_sandbox(multus, both, "10-calico.conflist", "delegate is canal's");
  BOOST_TEST(!r.interfaces.has_value());
  BOOST_TEST(r.message == "failed to setup network for sandbox: delegate is canal's");
  BOOST_TEST(create_sandbox(multus, both, "10-calico.conflist", "").interfaces.has_value());
  const auto plain = create_sandbox(role_bit(AgentRole::source), network_bit(Network::source),
                                    "10-calico.conflist", "delegate is canal's");
  BOOST_TEST(plain.interfaces.has_value());
}
