#define BOOST_TEST_MODULE sim makespan bound
// The simulator's makespan lower bound (src/sim/README.md), derived in
// src/sim/makespan_bound.cpp from the kubelet model's delays.
#include "makespan_bound.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::sim;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(default_delays_at_full_scale) {
  ClusterOptions o;  // S=1s R=2s T=1s A=3s
  const auto b = makespan_lower_bound(o, 4, 1);
  BOOST_TEST(b.preflight == 3s);                 // S + R
  BOOST_TEST(b.prepare == 20s);                  // 4 agents one at a time: 4 * (T + S + A)
  BOOST_TEST(b.roll_node == 5s);                 // T + T + S + R
  BOOST_TEST(b.priority_node == 8s);             // max(T, S + A) + T + S + R
  BOOST_TEST(b.migrate_node == 9s);              // T + S + A + T + S + R
  BOOST_TEST(b.total(1) == 3s + 20s + 4 * 22s);  // four batches of one
  BOOST_TEST(b.total(3) == 3s + 20s + 2 * 22s);  // two batches
  BOOST_TEST(b.total(0) == b.total(1));
  const auto j = b.to_json();
  BOOST_TEST(j.at("by_parallelism_ms").at("3").to_number<double>() == 67000.0);
  BOOST_TEST(!j.at("by_parallelism_ms").as_object().contains("5"));
}

BOOST_AUTO_TEST_CASE(time_scale_and_rollout_budget) {
  ClusterOptions o;
  o.time_scale = 0.05;
  const auto b = makespan_lower_bound(o, 10, 5);
  BOOST_TEST(b.prepare == 500ms);  // two rounds of 250 ms
  BOOST_TEST(b.total(1) == 150ms + 500ms + 10 * 1100ms);
  // Few nodes: the new agents' start, not the rollout, bounds prepare.
  BOOST_TEST(makespan_lower_bound(o, 1, 1).prepare == 250ms);
}

// Budgets: each draining step evicts every pod a budget covers, `allowed` at
// a time, each until its replacement is Ready; with many nodes at once that,
// not the node batches, bounds the step.
BOOST_AUTO_TEST_CASE(budgets_bound_each_draining_step) {
  ClusterOptions o;  // S=1s R=2s T=1s A=3s
  const std::vector<BudgetLimit> budgets{
      {"apps/worker", 30, 1, false},  // 30 rounds of S + R = 90 s
      {"apps/db", 15, 1, true},       // 15 rounds of T + S + R = 60 s
      {"apps/web", 60, 6, false},     // 10 rounds of S + R = 30 s
      {"apps/none", 5, 0, false},     // allows nothing: no bound from it
  };
  const auto b = makespan_lower_bound(o, 100, 10, budgets);
  BOOST_TEST(b.budget_step == 90s);
  BOOST_TEST(b.budget == "apps/worker");
  // One node at a time: 100 batches per step dominate every step.
  BOOST_TEST(b.total(1) == b.preflight + b.prepare + 100 * 22s);
  // 50 at a time: two batches per step (10, 16, 18 s), each under 90 s.
  BOOST_TEST(b.total(50) == b.preflight + b.prepare + 3 * 90s);
  // 20 at a time: five batches; priority (40 s) and migrate (45 s) still
  // under the budget, roll (25 s) too.
  BOOST_TEST(b.total(20) == b.preflight + b.prepare + 3 * 90s);
  // 10 at a time: roll 50 s and priority 80 s under 90 s, migrate 90 s.
  BOOST_TEST(b.total(10) == b.preflight + b.prepare + 90s + 90s + 90s);
  BOOST_TEST(b.to_json().at("budget_step_ms").to_number<double>() == 90000.0);
  // Without budgets the old bound.
  BOOST_TEST(makespan_lower_bound(o, 100, 10).total(50) == b.preflight + b.prepare + 2 * 22s);
}
