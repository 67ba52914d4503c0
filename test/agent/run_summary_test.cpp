#include "cnimig/agent/run_summary.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(run_summary)

// `--steps preflight` checks the cluster and migrates nothing: the summary
// must not claim "migration completed: 4 node(s) on Cilium".
BOOST_AUTO_TEST_CASE(preflight_only_says_nothing_was_migrated) {
  const auto text = agent::completion_summary(*config::parse_step_range("preflight"), 4, 1234ms);
  BOOST_TEST(text ==
             "step 0 (preflight) completed in 1.2 s; no node was migrated (step 4, "
             "migrate, was not selected)");
  const auto early = agent::completion_summary(*config::parse_step_range("0-3"), 4, 2000ms);
  BOOST_TEST(early.starts_with("steps 0-3 (preflight-priority) completed in 2.0 s; no node"));
}

BOOST_AUTO_TEST_CASE(a_run_through_cleanup_completes_the_migration) {
  BOOST_TEST(agent::completion_summary(*config::parse_step_range("0-5"), 4, 10500ms) ==
             "migration completed: 4 node(s) on Cilium in 10.5 s (steps 0-5 (preflight-cleanup))");
  BOOST_TEST(agent::completion_summary(*config::parse_step_range("cleanup"), 4, 500ms) ==
             "migration completed in 0.5 s (step 5 (cleanup))");
}

BOOST_AUTO_TEST_CASE(a_run_through_migrate_counts_its_nodes_and_names_what_is_left) {
  BOOST_TEST(agent::completion_summary(*config::parse_step_range("migrate"), 2, 3000ms) ==
             "step 4 (migrate) completed in 3.0 s: 2 node(s) on Cilium; step 5 (cleanup) is "
             "still to run");
}

BOOST_AUTO_TEST_SUITE_END()
