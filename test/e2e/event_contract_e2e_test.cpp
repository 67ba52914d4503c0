// The event stream as a contract (README "Event stream"): every stdout line
// of a plan and of a full migration is one JSON object honouring the
// catalogue in include/cnimig/events/event_catalogue.hpp, and stdout carries
// nothing else.
#define BOOST_TEST_MODULE e2e_event_contract
#include <map>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/events/event_catalogue.hpp"

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

// Checks every line; returns how often each event occurred.
std::map<std::string, int> check_stream(const std::string& stdout_text, const std::string& run) {
  std::map<std::string, int> seen;
  BOOST_TEST_REQUIRE(!stdout_text.empty(), run << ": no events");
  BOOST_TEST(stdout_text.back() == '\n', run << ": stdout ends in a partial line");
  int line_no = 0;
  for (const auto& line : lines(stdout_text)) {
    ++line_no;
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object()) {
      BOOST_ERROR(run << " line " << line_no << " is not a JSON object: " << line);
      continue;
    }
    const auto& object = value.as_object();
    for (const auto& problem : cnimig::events::contract_violations(object))
      BOOST_ERROR(run << " line " << line_no << ": " << problem << "\n  " << line);
    if (const auto* e = object.if_contains("event"); e && e->is_string())
      ++seen[std::string(e->get_string())];
    // plan.action's kind is the event the action emits when applied.
    const auto* event = object.if_contains("event");
    const auto* kind = object.if_contains("kind");
    if (event && event->is_string() && event->get_string() == "plan.action" && kind &&
        kind->is_string() && !cnimig::events::in_catalogue(kind->get_string())) {
      BOOST_ERROR(run << " line " << line_no << ": plan.action kind " << kind->get_string()
                      << " is not a catalogued event\n  " << line);
    }
  }
  return seen;
}

}  // namespace

BOOST_AUTO_TEST_CASE(plan_and_full_migration_honour_the_event_contract) {
  SimCluster cluster(4);
  for (const char* ds : {"canal", "kube-proxy"}) {
    auto settled =
        cluster.kubectl({"wait", "--for=jsonpath={.status.numberReady}=4", "-n", "kube-system",
                         std::string("daemonset/") + ds, "--timeout=120s"});
    BOOST_TEST_REQUIRE(settled.exit_code == 0, settled.stderr_text);
  }

  auto plan = cluster.agent({});
  BOOST_TEST_REQUIRE(plan.exit_code == 0, plan.stderr_text);
  const auto planned = check_stream(plan.stdout_text, "plan");
  for (const char* name :
       {"config.loaded", "cluster.connected", "cluster.synced", "plan.action", "plan.completed"}) {
    BOOST_TEST(planned.contains(name), "plan emitted no " << name);
  }

  auto apply = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(apply.exit_code == 0, apply.stderr_text);
  const auto applied = check_stream(apply.stdout_text, "apply");
  for (const char* name : {"config.loaded",      "cluster.connected",
                           "preflight.warning",  "cluster.synced",
                           "lease.acquired",     "migration.started",
                           "step.started",       "step.completed",
                           "node.phase",         "node.labelled",
                           "node.annotated",     "node.cordoned",
                           "node.uncordoned",    "node.tainted",
                           "node.untainted",     "pod.deleted",
                           "manifest.applied",   "daemonset.patched",
                           "gate.waiting",       "gate.passed",
                           "probe.passed",       "cilium.defaults_restored",
                           "migration.completed"}) {
    BOOST_TEST(applied.contains(name), "the migration emitted no " << name);
  }
  BOOST_TEST(applied.at("step.started") == 6);
  BOOST_TEST(applied.at("migration.completed") == 1);
  BOOST_TEST(applied.at("cilium.defaults_restored") == 1);  // once, at cleanup
  check_migrated(cluster, 1);
}

// Faults bring out the events a clean run never emits: `api.retry` (429s on
// reads and creates) and `pod.eviction_blocked` (an eviction answered 429).
BOOST_AUTO_TEST_CASE(retries_and_blocked_evictions_honour_the_event_contract) {
  SimCluster cluster(4,
                     {"--faults", "error-rate=0.1,error-verbs=get|list|create,error-status=429"});
  auto apply = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(apply.exit_code == 0, apply.stderr_text);
  const auto seen = check_stream(apply.stdout_text, "apply with faults");
  BOOST_TEST(seen.contains("api.retry"), "no api.retry under injected 429s");
  BOOST_TEST(seen.contains("pod.eviction_blocked"), "no pod.eviction_blocked under injected 429s");
  BOOST_TEST(seen.contains("migration.completed"));
}
