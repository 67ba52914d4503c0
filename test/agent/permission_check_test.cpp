#include "cnimig/agent/permission_check.hpp"

#include <algorithm>

#include <boost/test/unit_test.hpp>

using namespace cnimig::agent;

BOOST_AUTO_TEST_SUITE(permission_check)

// cilium-native writes its CiliumNodeConfig: preflight checks those verbs
// too, and only for that strategy.
BOOST_AUTO_TEST_CASE(cilium_native_needs_the_node_config) {
  const auto names = [](const std::vector<cnimig::kube::AccessCheck>& checks) {
    std::vector<std::string> out;
    for (const auto& c : checks)
      out.push_back(describe(c));
    return out;
  };
  const auto multus = names(required_permissions(std::nullopt));
  const auto native =
      names(required_permissions(std::nullopt, cnimig::config::Strategy::cilium_native));
  for (const char* verb : {"get", "create", "patch", "delete"}) {
    const auto want = std::string(verb) + " cilium.io/ciliumnodeconfigs";
    BOOST_TEST((std::find(native.begin(), native.end(), want) != native.end()), want);
    BOOST_TEST((std::find(multus.begin(), multus.end(), want) == multus.end()), want);
  }
  BOOST_TEST(native.size() == multus.size() + 4);
}

BOOST_AUTO_TEST_SUITE_END()
