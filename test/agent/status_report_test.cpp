// `cnimig-agent status`'s report (status_report.hpp): phases, step progress,
// the Lease and the next decision, derived from a snapshot as the driver does.

#include "cnimig/agent/status_report.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

using namespace cnimig;
using namespace cnimig::migrate;

namespace {

const agent::StepProgress& step_of(const agent::StatusReport& r, StepId id) {
  return r.steps.at(static_cast<std::size_t>(id));
}

bool any_contains(const std::vector<std::string>& items, std::string_view needle) {
  return std::any_of(items.begin(), items.end(),
                     [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

PlanState cluster(const MigrationSettings& s) {
  test::FixtureOptions o;
  o.nodes = 4;
  o.knet_stress_installed = true;
  return test::make_cluster(s, o);
}

// The cluster as a fresh process sees it the first time a node is draining
// in the roll step (a plan played up to there).
PlanState mid_roll(const MigrationSettings& s) {
  std::optional<PlanState> seen;
  const PlanObserver observer = [&](const PlanState& snap, const Action&) {
    if (seen)
      return;
    for (const auto& [name, node] : snap.nodes) {
      if (node_phase(node, snap, s) == NodePhase::roll_draining)
        seen = snap;
    }
  };
  run_plan(cluster(s), s, Budget{}, Selection{}, SimulatedEffects(s), 100000, observer);
  BOOST_TEST_REQUIRE(seen.has_value());
  return test::fresh_process(*seen);
}

const boost::json::object kLease = boost::json::parse(R"({"spec":{"holderIdentity":"host-a",
    "renewTime":"2026-12-02T10:00:00.000000Z","leaseDurationSeconds":30}})")
                                       .as_object();
constexpr std::int64_t kRenewed = 1796205600;  // 2026-12-02T10:00:00Z

}  // namespace

BOOST_AUTO_TEST_SUITE(status_report)

BOOST_AUTO_TEST_CASE(fresh_cluster_waits_for_its_first_check_then_prepares) {
  const auto s = MigrationSettings::defaults();
  const auto c = cluster(s);
  const auto r = agent::make_status(c, c.now, s, Budget{}, agent::LeaseStatus{}, 3);
  BOOST_TEST(r.nodes_total == 4u);
  BOOST_TEST(std::all_of(r.nodes.begin(), r.nodes.end(),
                         [](const auto& n) { return n.phase == NodePhase::unprepared; }));
  BOOST_TEST((step_of(r, StepId::preflight).state == StepState::running));
  BOOST_TEST((step_of(r, StepId::roll).state == StepState::pending));
  BOOST_TEST(r.needs_check_first);
  BOOST_TEST(r.next.size() == 3u);  // capped
  BOOST_TEST(any_contains(r.next, "prepare node-0: label"), r.next.front());
  BOOST_TEST(!r.finished);
  BOOST_TEST(!r.halt.has_value());
}

BOOST_AUTO_TEST_CASE(mid_roll_shows_the_node_in_flight_and_the_steps_done) {
  const auto s = MigrationSettings::defaults();
  const auto c = mid_roll(s);
  const auto r = agent::make_status(c, c.now, s, Budget{}, agent::LeaseStatus{}, 12);
  BOOST_TEST((step_of(r, StepId::preflight).state == StepState::done));
  BOOST_TEST((step_of(r, StepId::prepare).state == StepState::done));
  BOOST_TEST(step_of(r, StepId::prepare).nodes_done == 4u);
  BOOST_TEST((step_of(r, StepId::roll).state == StepState::running));
  BOOST_TEST_REQUIRE(r.current_step.has_value());
  BOOST_TEST((*r.current_step == StepId::roll));
  const auto& roll = step_of(r, StepId::roll);
  BOOST_TEST_REQUIRE(roll.in_flight.size() == 1u);
  BOOST_TEST(roll.in_flight.front().find("(roll-draining)") != std::string::npos);
  BOOST_TEST(roll.nodes_done + 1 <= 4u);
  // The rerun goes on draining that node (no check needed for a node in flight).
  BOOST_TEST(any_contains(r.next, ": evict pod "), (r.next.empty() ? "" : r.next.front()));

  const auto table = agent::render_status_table(r);
  BOOST_TEST(table.find("roll-draining") != std::string::npos, table);
  BOOST_TEST(table.find("evict pod") != std::string::npos, table);
  const auto json = agent::status_json(r);
  BOOST_TEST(json.at("current_step").as_string() == "roll");
  BOOST_TEST(json.at("nodes").as_array().size() == 4u);
  BOOST_TEST(boost::json::serialize(json).find("roll-draining") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_finished_migration_says_so) {
  const auto s = MigrationSettings::defaults();
  const auto plan = run_plan(cluster(s), s, Budget{}, Selection{}, SimulatedEffects(s));
  BOOST_TEST_REQUIRE(plan.outcome.has_value());
  const auto r = agent::make_status(plan.final_snapshot, plan.final_snapshot.now, s, Budget{},
                                    agent::LeaseStatus{}, 12);
  BOOST_TEST(r.finished);
  BOOST_TEST(r.next.empty());
  for (const auto& step : r.steps)
    BOOST_TEST((step.state == StepState::done));
  BOOST_TEST(std::all_of(r.nodes.begin(), r.nodes.end(),
                         [](const auto& n) { return n.phase == NodePhase::cleaned; }));
  BOOST_TEST(agent::status_json(r).at("finished").as_bool());
}

BOOST_AUTO_TEST_CASE(lease_holder_renewal_and_expiry) {
  const auto live = agent::lease_status("kube-system/cnimig-agent", &kLease, kRenewed + 10);
  BOOST_TEST(live.exists);
  BOOST_TEST(live.holder == "host-a");
  BOOST_TEST(live.live);
  BOOST_TEST(live.seconds_since_renewal == 10);
  BOOST_TEST(live.duration_seconds == 30);
  const auto stale = agent::lease_status("kube-system/cnimig-agent", &kLease, kRenewed + 31);
  BOOST_TEST(!stale.live);
  const auto none = agent::lease_status("kube-system/cnimig-agent", nullptr, kRenewed);
  BOOST_TEST(!none.exists);
  BOOST_TEST(!none.live);

  agent::StatusReport r;
  r.lease = live;
  const auto table = agent::render_status_table(r);
  BOOST_TEST(table.find("held by host-a") != std::string::npos, table);
  BOOST_TEST(agent::status_json(r).at("lease").at("holder").as_string() == "host-a");
}

// A Lease just acquired and not yet renewed carries only acquireTime: status
// reads it as the Lease keeper does (live), not as a stale Lease.
BOOST_AUTO_TEST_CASE(a_lease_never_renewed_is_live_from_its_acquire_time) {
  const auto acquired = boost::json::parse(R"({"spec":{"holderIdentity":"host-b",
      "acquireTime":"2026-12-02T10:00:00.000000Z","leaseDurationSeconds":30}})")
                            .as_object();
  const auto s = agent::lease_status("kube-system/cnimig-agent", &acquired, kRenewed + 10);
  BOOST_TEST(s.holder == "host-b");
  BOOST_TEST(s.live);
  BOOST_TEST(s.seconds_since_renewal == 10);
}

BOOST_AUTO_TEST_SUITE_END()
