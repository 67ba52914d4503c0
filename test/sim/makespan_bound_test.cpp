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
