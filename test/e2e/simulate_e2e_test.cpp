// `cnimig-agent --simulate N`, the README's main command: an in-process
// cnimig-sim migrated to Cilium, ending with migration.completed, the
// simulator's verdict as a sim.report event, and a summary on stderr. Plan
// mode against it changes nothing and completes.
#define BOOST_TEST_MODULE e2e_simulate
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

const boost::json::object* last_event(const std::vector<boost::json::object>& events,
                                      std::string_view name) {
  const boost::json::object* found = nullptr;
  for (const auto& e : events) {
    if (e.at("event").as_string() == name)
      found = &e;
  }
  return found;
}

}  // namespace

BOOST_AUTO_TEST_CASE(apply_migrates_the_simulated_cluster) {
  auto r = run_process({CNIMIG_AGENT_BIN, "--simulate", "4", "--apply"}, {}, 600s);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST_REQUIRE(events.size() >= 2u);
  // The migration's last word, then the simulator's verdict.
  BOOST_TEST(events[events.size() - 2].at("event").as_string() == "migration.completed");
  const auto& verdict = events.back();
  BOOST_TEST_REQUIRE(verdict.at("event").as_string() == "sim.report");
  BOOST_TEST(verdict.at("violations").as_int64() == 0);
  BOOST_TEST(verdict.at("max_nodes_cordoned").as_int64() == 1);
  for (const char* step : {"preflight", "prepare", "roll", "priority", "migrate", "cleanup"}) {
    BOOST_TEST(std::any_of(events.begin(), events.end(),
                           [&](const boost::json::object& e) {
                             return e.at("event").as_string() == "step.completed" &&
                                    e.at("step").as_string() == step;
                           }),
               step << " did not complete");
  }
  BOOST_TEST(r.stderr_text.find("migration completed: 4 node(s) on Cilium") != std::string::npos,
             r.stderr_text);
  BOOST_TEST(
      r.stderr_text.find("simulated cluster: 0 connectivity violations") != std::string::npos,
      r.stderr_text);
}

BOOST_AUTO_TEST_CASE(plan_changes_nothing) {
  auto r = run_process({CNIMIG_AGENT_BIN, "--simulate", "3"}, {}, 600s);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(has_event(events, "plan.completed"));
  BOOST_TEST(!has_event(events, "migration.completed"));
  const auto* verdict = last_event(events, "sim.report");
  BOOST_TEST_REQUIRE(verdict != nullptr);
  BOOST_TEST(verdict->at("max_nodes_cordoned").as_int64() == 0);
}
