#include "cnimig/agent/node_event.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::agent;

BOOST_AUTO_TEST_SUITE(node_event)

const auto kNow = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795595400123));

BOOST_AUTO_TEST_CASE(event_points_at_the_node_like_client_go) {
  auto e = make_node_event({"node-1", "uid-1", "CniMigrated", "node runs Cilium only",
                            NodeEventType::normal, "bastion/42"},
                           kNow);
  BOOST_TEST(e.at("kind").as_string() == "Event");
  const auto& meta = e.at("metadata").as_object();
  BOOST_TEST(meta.at("namespace").as_string() == "default");
  BOOST_TEST(std::string(meta.at("name").as_string()).rfind("node-1.", 0) == 0u);
  BOOST_TEST(meta.at("name").as_string() == "node-1.18eb3c80c0a824c0");  // unix nanos in hex
  const auto& involved = e.at("involvedObject").as_object();
  BOOST_TEST(involved.at("kind").as_string() == "Node");
  BOOST_TEST(involved.at("name").as_string() == "node-1");
  BOOST_TEST(involved.at("uid").as_string() == "uid-1");
  BOOST_TEST(e.at("reason").as_string() == "CniMigrated");
  BOOST_TEST(e.at("type").as_string() == "Normal");
  BOOST_TEST(e.at("reportingComponent").as_string() == "cnimig-agent");
  BOOST_TEST(e.at("source").at("component").as_string() == "cnimig-agent");
  BOOST_TEST(e.at("reportingInstance").as_string() == "bastion/42");
  BOOST_TEST(e.at("firstTimestamp").as_string() == "2026-11-25T08:30:00Z");
}

BOOST_AUTO_TEST_CASE(warnings_and_long_messages) {
  auto e = make_node_event(
      {"n", "", "GateFailed", std::string(5000, 'x'), NodeEventType::warning, "i"}, kNow);
  BOOST_TEST(e.at("type").as_string() == "Warning");
  BOOST_TEST(e.at("message").as_string().size() == 1024u);
  BOOST_TEST(!e.at("involvedObject").as_object().contains("uid"));
}

BOOST_AUTO_TEST_SUITE_END()
