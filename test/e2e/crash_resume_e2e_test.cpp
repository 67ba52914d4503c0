// Kill the agent at any write and rerun: same final state, zero violations
// (test/README.md "Hardening suites"; the chain of kills: crash_chain.hpp).
#define BOOST_TEST_MODULE e2e_crash_resume
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "crash_chain.hpp"

using namespace cnimig::test;

namespace {

void check_chain(std::uint64_t stride, const std::string& strategy = "multus",
                 const std::vector<std::string>& sim_args = {}) {
  SimCluster cluster(4, sim_args);
  cluster.use_strategy(strategy);
  const auto chain = run_chain(cluster, stride, {"--apply"}, "migration.completed");
  check_migrated(cluster, 1);
  const auto faults = cluster.put_faults("");
  (void)faults;
  std::printf(
      "crash-resume strategy=%s stride=%llu kills=%d points_covered=%zu "
      "writes_let_through=%llu wall_s=%.1f\n",
      strategy.c_str(), static_cast<unsigned long long>(stride), chain.points, chain.held.size(),
      static_cast<unsigned long long>(chain.counted), chain.seconds);
  BOOST_TEST(chain.held.size() >= 3u);
}

}  // namespace

// Default suite: a sample of kill points (every 8th counted write), for
// each strategy.
BOOST_DATA_TEST_CASE(crash_resume_sampled, boost::unit_test::data::make(kStrategies), strategy) {
  check_chain(8, strategy);
}

// From Kubernetes 1.35 the agent places each cut-off in the pods' order
// after writing it: a kill between the write and that read, or any later,
// leaves a run that knows only the cut-off's second (the order is the
// writing run's alone), and the rerun waits for the clock instead.
BOOST_AUTO_TEST_CASE(crash_resume_sampled_with_cutoffs_in_the_pods_order) {
  check_chain(5, "multus", {"--server-version", "1.35"});
}

// Label `scale` (ctest -L scale): every write of a full 4-node migration.
BOOST_AUTO_TEST_CASE(crash_resume_every_write, *boost::unit_test::disabled()) {
  check_chain(1);
}

// A killed agent leaves its live Lease behind. The same host takes it back at
// once (tested by every rerun above); another holder is refused with exit 4
// and writes nothing.
BOOST_AUTO_TEST_CASE(left_behind_lease_refuses_another_holder) {
  SimCluster cluster(4);
  cluster.put_faults("stop-at-write=3,stop-at-write-skip=leases|events");
  {
    BackgroundProcess agent(cluster.agent_argv({"--apply"}));
    auto held = cluster.sim->wait_for_line(
        [](const std::string& l) { return l.find("\"sim.write-held\"") != std::string::npos; },
        120s);
    BOOST_TEST_REQUIRE(held.has_value(), agent.stderr_text());
    BOOST_TEST_REQUIRE(agent.stop(SIGKILL) == 128 + SIGKILL);
  }
  cluster.put_faults("");
  const auto before = cluster.report();
  auto other =
      run_process(cluster.agent_argv({"--apply"}), {"CNIMIG_LEASE_IDENTITY=other-host"}, 120s);
  BOOST_TEST(other.exit_code == 4, other.stderr_text);
  BOOST_TEST(other.stderr_text.find("holds Lease") != std::string::npos, other.stderr_text);
  const auto after = cluster.report();
  // Access reviews are creates that store nothing; the Lease is only read.
  const auto reviews = [](const boost::json::object& r) {
    return request_count(r, "create selfsubjectaccessreviews");
  };
  BOOST_TEST(request_count(after, "create") - reviews(after) ==
             request_count(before, "create") - reviews(before));
  for (const char* verb : {"patch", "update", "delete"})
    BOOST_TEST(request_count(after, verb) == request_count(before, verb),
               verb << " requests by a refused agent");
  // The original host's agent resumes at once.
  const auto started = std::chrono::steady_clock::now();
  auto same = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(same.exit_code == 0, same.stderr_text);
  check_migrated(cluster, 1);
  BOOST_TEST_MESSAGE(
      "resume after a kill took "
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
      << " s (the Lease lasts 30 s)");
}
