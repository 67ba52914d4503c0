#define BOOST_TEST_MODULE kube_server_version
#include "cnimig/kube/server_version.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig::kube;

namespace {

boost::json::object info(const char* major, const char* minor, const char* git) {
  return boost::json::object{{"major", major}, {"minor", minor}, {"gitVersion", git}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(major_and_minor_win_and_provider_suffixes_are_read) {
  auto v = parse_server_version(info("1", "30+", "v1.30.4-gke.1348000"));
  BOOST_TEST_REQUIRE(v.has_value());
  BOOST_TEST(v->major == 1);
  BOOST_TEST(v->minor == 30);
  BOOST_TEST(v->git_version == "v1.30.4-gke.1348000");
}

BOOST_AUTO_TEST_CASE(git_version_when_major_and_minor_are_empty) {
  auto v = parse_server_version(info("", "", "v1.35.1"));
  BOOST_TEST_REQUIRE(v.has_value());
  BOOST_TEST(v->minor == 35);
  BOOST_TEST(!parse_server_version(info("", "", "devel")).has_value());
  BOOST_TEST(!parse_server_version(boost::json::object{}).has_value());
}

// kube-apiserver authorizes the WebSocket upgrade (a GET) as `get
// pods/exec`; 1.35's AuthorizePodWebsocketUpgradeCreatePermission (beta, on
// by default) adds a `create` check.
BOOST_AUTO_TEST_CASE(websocket_exec_is_get_before_1_35_and_get_and_create_from_it) {
  using V = std::vector<std::string>;
  BOOST_TEST((websocket_exec_verbs(ServerVersion{1, 26, ""}) == V{"get"}));
  BOOST_TEST((websocket_exec_verbs(ServerVersion{1, 34, ""}) == V{"get"}));
  BOOST_TEST((websocket_exec_verbs(ServerVersion{1, 35, ""}) == V{"get", "create"}));
  BOOST_TEST((websocket_exec_verbs(ServerVersion{2, 0, ""}) == V{"get", "create"}));
  BOOST_TEST((websocket_exec_verbs(std::nullopt) == V{"get", "create"}));
}
