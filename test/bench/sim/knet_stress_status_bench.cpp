#define BOOST_TEST_MODULE sim knet stress status
// What one `knet-stress status` exec costs the simulator at 5,000 nodes
// (CNIMIG_BENCH_NODES): a NetworkModel fed by hand with the pods
// `cnimig-sim --pods-per-node 30` holds (a source agent, two knet-stress
// pods and 30 others a node), a full check's execs (every knet-stress pod)
// timed, and some of them answered by the first algorithm too
// (knet_stress_reference.hpp: every pod of the cluster visited) to print the
// ratio. Once with every peer reachable, once with one node's network down.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "knet_stress_reference.hpp"
#include "network_model.hpp"

namespace json = boost::json;
using namespace cnimig::sim;
using namespace cnimig::sim::test;

namespace {
std::size_t env_or(const char* name, std::size_t dflt) {
  const char* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::atoll(v)) : dflt;
}
double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
void figure(const std::string& name, double value, const char* unit) {
  std::cout << name << " " << value << " " << unit << std::endl;
}
}  // namespace

BOOST_AUTO_TEST_CASE(full_check_at_scale) {
  const auto nodes = env_or("CNIMIG_BENCH_NODES", 5000);
  const auto per_node = env_or("CNIMIG_BENCH_PODS_PER_NODE", 30);
  const auto reference_execs = env_or("CNIMIG_BENCH_REFERENCE_EXECS", 20);
  const ClusterOptions options;
  NetworkModel net(options);
  const NetworkModel::Clock::time_point now{};
  std::vector<json::object> knet;  // the execs' targets
  std::vector<ReferencePod> all;
  json::object down_agent, up_agent;
  auto t0 = std::chrono::steady_clock::now();
  auto add = [&](const PodSpec& s) {
    auto p = pod(s);
    net.pod_changed(nullptr, &p, now);
    all.push_back(reference_pod(p));
    return p;
  };
  for (std::size_t i = 0; i < nodes; ++i) {
    const auto name = "node-" + std::to_string(i);
    const json::object n{{"metadata", json::object{{"name", name}}}, {"spec", json::object{}}};
    net.node_changed(nullptr, &n, now);
    const auto subnet = "10." + std::to_string(64 + i / 256 % 64) + "." + std::to_string(i % 256);
    auto agent = add({options.source_cni_namespace, "canal-" + std::to_string(i), name, "canal",
                      true, "", true, "172.16.0.1"});
    if (i == 0)
      up_agent = agent;
    for (const auto* ds : {"knet-stress", "knet-stress-2"})
      knet.push_back(add({"knet-stress", std::string(ds) + "-" + std::to_string(i), name, ds, true,
                          "source", false, subnet + (knet.size() % 2 ? ".3" : ".2")}));
    for (std::size_t j = 0; j < per_node; ++j)
      add({"default", "app-" + std::to_string(i) + "-" + std::to_string(j), name, "", true,
           "source", false, subnet + "." + std::to_string(4 + j)});
  }
  figure("knet_status_model_pods", static_cast<double>(all.size()), "pods");
  figure("knet_status_model_build_s", since(t0), "s");

  auto run = [&](const std::string& label) {
    t0 = std::chrono::steady_clock::now();
    std::size_t failing = 0;
    for (const auto& p : knet)
      failing += net.knet_stress_status(p).exit_code != 0;
    const double indexed = since(t0) / static_cast<double>(knet.size());
    t0 = std::chrono::steady_clock::now();
    const auto n = std::min(reference_execs, knet.size());
    for (std::size_t i = 0; i < n; ++i) {
      const auto want = reference_knet_stress_status(net, reference_pod(knet[i]), true, all);
      const auto got = net.knet_stress_status(knet[i]);
      BOOST_TEST(got.stdout_text == want.stdout_text);
      BOOST_TEST(got.stderr_text == want.stderr_text);
    }
    const double reference = since(t0) / static_cast<double>(n);
    figure("knet_status_" + label + "_execs", static_cast<double>(knet.size()), "execs");
    figure("knet_status_" + label + "_failing", static_cast<double>(failing), "execs");
    figure("knet_status_" + label + "_indexed_per_exec_us", indexed * 1e6, "us");
    figure("knet_status_" + label + "_full_check_s", indexed * static_cast<double>(knet.size()),
           "s");
    figure("knet_status_" + label + "_reference_per_exec_ms", reference * 1e3, "ms");
    figure("knet_status_" + label + "_reference_full_check_s",
           reference * static_cast<double>(knet.size()), "s");
    figure("knet_status_" + label + "_ratio_reference_over_indexed", reference / indexed, "x");
    return failing;
  };
  BOOST_TEST(run("all_reachable") == 0u);
  // node-0's source agent stops: its two knet-stress pods are unreachable
  // from every other node, and every exec lists them.
  auto down = up_agent;
  down["status"].as_object()["conditions"] =
      json::array{json::object{{"type", "Ready"}, {"status", "False"}}};
  net.pod_changed(&up_agent, &down, now);
  BOOST_TEST(run("one_node_down") == knet.size());
}
