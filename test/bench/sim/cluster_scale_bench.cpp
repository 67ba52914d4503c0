#define BOOST_TEST_MODULE sim cluster scale
// src/sim/README.md: 5,000 nodes and 150,000 pods in one process. Boots the
// default cluster at that size (CNIMIG_SIM_NODES / CNIMIG_SIM_PODS_PER_NODE
// override), lets every pod become Ready, then rolls one node's pods and
// times it, and prints time, RSS and the oracle's counters.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include <boost/test/unit_test.hpp>

#include "sim_cluster_harness.hpp"

using namespace cnimig::sim;
using cnimig::sim::test::Harness;

namespace {
std::size_t env_or(const char* name, std::size_t dflt) {
  const char* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::atoll(v)) : dflt;
}
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

BOOST_AUTO_TEST_CASE(default_cluster_at_scale) {
  const auto nodes = env_or("CNIMIG_SIM_NODES", 5000);
  const auto per_node = env_or("CNIMIG_SIM_PODS_PER_NODE", 30);
  Harness h;
  auto t0 = std::chrono::steady_clock::now();
  h.model.bootstrap(nodes, per_node);
  const double created = since(t0);
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.settled(); }, 100'000'000));
  const double settled = since(t0);
  const auto report = h.model.report();
  std::cout << "nodes=" << nodes << " pods=" << h.store.count(h.pods) << " bootstrap_s=" << created
            << " settle_s=" << settled << " rss_mib=" << rss_kib() / 1024 << "\n"
            << boost::json::serialize(report) << std::endl;
  BOOST_TEST(report.at("pods").at("ready").to_number<std::size_t>() == h.store.count(h.pods));
  BOOST_TEST(h.model.network().tracker().violations() == 0u);

  // One node's roll: cordon, delete its pods, settle (controller reaction cost).
  t0 = std::chrono::steady_clock::now();
  h.cordon("node-1", true);
  for (const auto& p : h.store.pods_on_node("node-1"))
    if (!p->at("spec").as_object().contains("hostNetwork"))
      h.delete_pod(*p);
  BOOST_TEST_REQUIRE(h.run_until([&] { return h.settled(); }, 100'000'000));
  h.cordon("node-1", false);
  BOOST_TEST_REQUIRE(h.settle());
  std::cout << "roll_one_node_s=" << since(t0) << " rss_mib=" << rss_kib() / 1024 << std::endl;
  BOOST_TEST(h.model.network().tracker().max_violations() == 0u);
}
