#pragma once
// The oracle tests' gate, as the migration's: knet-stress reports every peer
// reachable (Boost.Test assertions, so apart from the harness benchmarks use).

#include <string>

#include <boost/test/unit_test.hpp>

#include "sim_cluster_harness.hpp"

namespace cnimig::sim::test {

// A migration's gate: everything settled, the `pods` knet-stress instances
// all Ready, each reaching all its peers.
inline void knet_stress_gate(Harness& h, const std::string& where, std::size_t pods) {
  BOOST_TEST_REQUIRE(h.settle(), where);
  const auto knet = h.pods_of("knet-stress");
  BOOST_TEST_REQUIRE(knet.size() == pods, where);
  for (const auto& p : knet) {
    BOOST_TEST_REQUIRE(Harness::ready(*p), where);
    const auto r = h.model.exec(*p, {"/knet-stress", "status"});
    BOOST_TEST(r.exit_code == 0, where << ": " << r.stderr_text);
  }
}

}  // namespace cnimig::sim::test
