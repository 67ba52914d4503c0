#include "cnimig/config/gate.hpp"

#include <set>
#include <string>

#include <boost/test/unit_test.hpp>

#include "cnimig/config/config.hpp"

using namespace cnimig::config;

BOOST_AUTO_TEST_SUITE(gate)

BOOST_AUTO_TEST_CASE(every_gate_has_one_name_that_parses_back) {
  std::set<std::string> names;
  for (Gate g : kAllGates) {
    BOOST_TEST((parse_gate(to_string(g)) == g));
    BOOST_TEST(names.insert(std::string(to_string(g))).second, to_string(g));
  }
  BOOST_TEST(!parse_gate("pod-gone").has_value());
  BOOST_TEST(!parse_gate("").has_value());
}

// The timeouts the driver gave each gate by name before the enum: a change
// here changes when a run halts.
BOOST_AUTO_TEST_CASE(each_gate_takes_its_timeout) {
  Timeouts t;
  BOOST_TEST(t.for_gate(Gate::pods_gone)->count() == t.pod_deletion.count());
  BOOST_TEST(t.for_gate(Gate::cni_ready)->count() == t.rollout.count());
  BOOST_TEST(t.for_gate(Gate::cilium_migrated_ready)->count() == t.rollout.count());
  BOOST_TEST(t.for_gate(Gate::eviction_blocked)->count() == t.drain.count());
  BOOST_TEST(t.for_gate(Gate::resources_ready)->count() == t.gate.count());
  BOOST_TEST(t.for_gate(Gate::cut_off)->count() == t.gate.count());
  BOOST_TEST(t.for_gate(Gate::in_flight)->count() == t.gate.count());
  BOOST_TEST(t.for_gate(Gate::node_joining)->count() == t.gate.count());
  BOOST_TEST(!t.for_gate(Gate::writes_in_flight).has_value());
  BOOST_TEST(!t.for_gate(Gate::connectivity_check).has_value());
  t.gates[Gate::cut_off] = std::chrono::seconds(7);
  BOOST_TEST(t.for_gate(Gate::cut_off)->count() == 7000);
}

BOOST_AUTO_TEST_SUITE_END()
