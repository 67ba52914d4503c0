// What the applied Cilium release requires: the table's releases by their
// image tag, the configuration's ciliumRequirements for any other (and over
// the table), and a refusal naming the image when neither knows it.
#define BOOST_TEST_MODULE migrate_cilium_requirements
#include "cnimig/migrate/cilium_requirements.hpp"

#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/cilium_node_config.hpp"
#include "cnimig/migrate/cni_stack_checks.hpp"

using namespace cnimig::migrate;

BOOST_AUTO_TEST_CASE(release_comes_from_the_image_tag) {
  BOOST_TEST(cilium_release("mirror.example/cilium/cilium:v1.18.9").value() == "1.18.9");
  BOOST_TEST(cilium_release("registry.example:5000/cilium/cilium:v1.19.0-rc.1@sha256:ab").value() ==
             "1.19.0-rc.1");
  BOOST_TEST(cilium_release("cilium:v1.19").value() == "1.19");
  BOOST_TEST(!cilium_release("registry.example:5000/cilium/cilium").has_value());  // a port
  BOOST_TEST(!cilium_release("mirror.example/cilium/cilium@sha256:abcd").has_value());
  BOOST_TEST(!cilium_release("mirror.example/cilium/cilium:latest").has_value());
  BOOST_TEST(!cilium_release("mirror.example/cilium/cilium:v2.0.0").has_value());
}

BOOST_AUTO_TEST_CASE(known_releases_come_from_the_table) {
  const auto r18 = cilium_requirements("mirror.example/cilium:v1.18.9", std::nullopt);
  BOOST_TEST_REQUIRE(r18.has_value());
  BOOST_TEST(r18->version == "1.18.9");
  BOOST_TEST(r18->kubernetes_min_minor == 30u);
  BOOST_TEST(r18->kubernetes_max_minor == 33u);
  BOOST_TEST(r18->kernel_major == 5u);
  BOOST_TEST(r18->kernel_minor == 10u);
  const auto r19 = cilium_requirements("mirror.example/cilium:v1.19.2", std::nullopt);
  BOOST_TEST_REQUIRE(r19.has_value());
  BOOST_TEST(r19->kubernetes_min_minor == 32u);
  BOOST_TEST(r19->kubernetes_max_minor == 35u);
  BOOST_TEST(r19->kernel_minor == 10u);
}

BOOST_AUTO_TEST_CASE(other_releases_need_the_configuration) {
  const auto unknown = cilium_requirements("mirror.example/cilium:v1.17.4", std::nullopt);
  BOOST_TEST_REQUIRE(!unknown.has_value());
  const auto& message = unknown.error().message;
  BOOST_TEST(message.find("'mirror.example/cilium:v1.17.4'") != std::string::npos, message);
  BOOST_TEST(message.find("Cilium 1.18, 1.19") != std::string::npos, message);
  BOOST_TEST(message.find("ciliumRequirements: {kubernetes: \"1.30-1.33\", kernel: \"5.10\"}") !=
                 std::string::npos,
             message);
  BOOST_TEST(!cilium_requirements("mirror.example/cilium@sha256:ab", std::nullopt).has_value());

  const cnimig::config::CiliumRequirements stated{28, 31, 4, 19};
  const auto r = cilium_requirements("mirror.example/cilium:v1.17.4", stated);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->version == "1.17.4");
  BOOST_TEST(r->kubernetes_min_minor == 28u);
  BOOST_TEST(r->kubernetes_max_minor == 31u);
  BOOST_TEST(r->kernel_major == 4u);
  BOOST_TEST(r->kernel_minor == 19u);
  // Stated requirements win over the table's.
  BOOST_TEST(cilium_requirements("mirror.example/cilium:v1.18.9", stated)->kubernetes_min_minor ==
             28u);
}

// The checks judge by the requirements they are given: Cilium 1.19 refuses
// the Kubernetes 1.31 that 1.18 accepts.
BOOST_AUTO_TEST_CASE(the_checks_use_the_applied_release) {
  CniStackFacts f;
  f.server_minor = 31;
  f.server_version = "v1.31.2";
  f.kernels = {{"n1", "5.10.0-33-cloud-amd64"}};
  const auto r18 = *known_cilium_requirements("1.18.9");
  const auto r19 = *known_cilium_requirements("1.19.1");
  BOOST_TEST(check_kubernetes_version(f, r18).empty());
  const auto ps = check_kubernetes_version(f, r19);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].fatal);
  BOOST_TEST(ps[0].message.find("older than Cilium 1.19.1 supports (1.32 to 1.35)") !=
             std::string::npos);
}

// cilium-native's CiliumNodeConfig: the versions each release serves, the
// API's discovery first, and refusals naming both sides.
BOOST_AUTO_TEST_CASE(cilium_node_config_version_by_release_and_discovery) {
  using V = std::vector<std::string>;
  BOOST_TEST((cilium_node_config_versions("1.15.7") == V{"v2alpha1"}));
  BOOST_TEST((cilium_node_config_versions("1.16.0") == V{"v2", "v2alpha1"}));
  BOOST_TEST((cilium_node_config_versions("1.19.1") == V{"v2", "v2alpha1"}));
  BOOST_TEST((cilium_node_config_versions("1.20.0") == V{"v2"}));
  BOOST_TEST(cilium_node_config_versions("latest").empty());

  const std::string img18 = "quay.io/cilium/cilium:v1.18.9";
  // No cilium.io yet: what the release will serve, the bundle's version.
  BOOST_TEST(cilium_node_config_api_version(std::nullopt, img18, "cilium.io/v2").value() ==
             "cilium.io/v2");
  BOOST_TEST(cilium_node_config_api_version(std::nullopt, img18, "cilium.io/v2alpha1").value() ==
             "cilium.io/v2alpha1");
  // Discovery decides: an API that serves only v2alpha1 gets v2alpha1.
  BOOST_TEST(cilium_node_config_api_version(V{"v2alpha1"}, img18, "cilium.io/v2").value() ==
             "cilium.io/v2alpha1");
  BOOST_TEST(cilium_node_config_api_version(V{"v2", "v2alpha1"}, img18, "cilium.io/v2").value() ==
             "cilium.io/v2");
  // v2alpha1 is gone from 1.20.
  auto gone = cilium_node_config_api_version(std::nullopt, "quay.io/cilium/cilium:v1.20.1",
                                             "cilium.io/v2alpha1");
  BOOST_TEST_REQUIRE(gone.has_error());
  BOOST_TEST(gone.error().message ==
             "the CiliumNodeConfig is cilium.io/v2alpha1, which Cilium 1.20.1 does not serve (it "
             "serves v2)");
  auto none = cilium_node_config_api_version(V{"v2alpha1"}, "quay.io/cilium/cilium:v1.20.1",
                                             "cilium.io/v2");
  BOOST_TEST_REQUIRE(none.has_error());
  BOOST_TEST(none.error().message.find("serves cilium.io versions v2alpha1 but Cilium 1.20.1") !=
             std::string::npos);
  BOOST_TEST(cilium_node_config_api_version(std::nullopt, img18, "example.com/v1").has_error());
}
