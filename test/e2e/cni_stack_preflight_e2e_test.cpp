// The agent's CNI stack preflight refuses each hazard the simulator models
// (src/sim/cni_hazards.hpp) before its first write: exit 2, a preflight.failed
// naming the objects and values, and no write at all in the simulator's
// report (SelfSubjectAccessReviews aside: questions, stored nowhere).
#define BOOST_TEST_MODULE e2e_cni_stack_preflight
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `cluster.config` with absolute manifest paths, the Cilium bundle a copy of
// resources/cilium.yaml with each key of `cilium` replaced by its value.
void use_cilium_bundle(SimCluster& cluster, const std::map<std::string, std::string>& cilium) {
  auto bundle = read(CNIMIG_SOURCE_DIR "/resources/cilium.yaml");
  for (const auto& [from, to] : cilium) {
    BOOST_TEST_REQUIRE(bundle.find(from) != std::string::npos, from);
    bundle = std::regex_replace(bundle, std::regex(from), to);
  }
  const auto bundle_path = (cluster.dir / "cilium.yaml").string();
  std::ofstream(bundle_path) << bundle;
  auto config = std::regex_replace(read(cluster.config), std::regex(R"(\.\./resources/)"),
                                   CNIMIG_SOURCE_DIR "/resources/");
  config = std::regex_replace(config, std::regex(CNIMIG_SOURCE_DIR "/resources/cilium.yaml"),
                              bundle_path);
  cluster.config = (cluster.dir / "config.yaml").string();
  std::ofstream(cluster.config) << config;
}

// The agent's writes the simulator counted.
std::int64_t agent_writes(const SimCluster& cluster) {
  const auto report = cluster.report();
  const auto* mine = report.at("requests_by_client").as_object().if_contains("cnimig-agent");
  std::int64_t n = 0;
  if (mine == nullptr)
    return 0;
  for (const auto& [key, value] : mine->as_object()) {
    const std::string_view k(key);
    if (k.find("selfsubjectaccessreviews") != std::string_view::npos)
      continue;
    for (const char* verb : {"create ", "patch ", "update ", "delete ", "deletecollection "})
      if (k.starts_with(verb))
        n += value.to_number<std::int64_t>();
  }
  return n;
}

// Runs the agent with `args` (`--apply`, or nothing: plan mode): exit 2,
// every needle in some preflight.failed, no write.
void refused(const SimCluster& cluster, const std::vector<std::string>& needles,
             const std::vector<std::string>& args) {
  auto r = cluster.agent(args);
  BOOST_TEST(r.exit_code == 2, r.stderr_text);
  std::vector<std::string> errors;
  for (const auto& e : events_of(r))
    if (e.at("event").as_string() == "preflight.failed")
      errors.emplace_back(e.at("error").as_string());
  BOOST_TEST_REQUIRE(!errors.empty(), r.stdout_text);
  for (const auto& needle : needles)
    BOOST_TEST(std::any_of(errors.begin(), errors.end(),
                           [&](const auto& e) { return e.find(needle) != std::string::npos; }),
               needle << " in " << r.stdout_text);
  BOOST_TEST(!has_event(events_of(r), "lease.acquired"));
  BOOST_TEST(agent_writes(cluster) == 0, boost::json::serialize(cluster.report()));
}

void refused(const SimCluster& cluster, const std::vector<std::string>& needles) {
  refused(cluster, needles, {"--apply"});
}

}  // namespace

// (a) cni-exclusive "true" in the Cilium bundle the agent would apply.
BOOST_AUTO_TEST_CASE(cni_exclusive_true_is_refused) {
  SimCluster cluster(2);
  use_cilium_bundle(cluster, {{R"(cni-exclusive: "false")", R"(cni-exclusive: "true")"}});
  refused(cluster, {"cni-exclusive: \"true\"", "00-multus.conflist"});
}

// (b) Cilium's VXLAN on flannel's UDP 8472.
BOOST_AUTO_TEST_CASE(tunnel_port_clash_is_refused) {
  SimCluster cluster(2, {"--source-cni", "flannel"});
  cluster.use_source("flannel");
  use_cilium_bundle(cluster, {{"tunnel-protocol: geneve", "tunnel-protocol: vxlan"},
                              {R"(tunnel-port: "6081")", R"(tunnel-port: "8472")"}});
  refused(cluster,
          {"ConfigMap kube-system/cilium-config tunnel-protocol/tunnel-port",
           "ConfigMap kube-flannel/kube-flannel-cfg net-conf.json Backend", "UDP port 8472"});
}

// (c) the source's pod CIDR is Cilium's pool (Canal: canal-config's
// net-conf.json and every node's spec.podCIDR).
BOOST_AUTO_TEST_CASE(pod_cidr_overlap_is_refused) {
  SimCluster cluster(2, {"--source-pod-cidr", "10.217.0.0/16"});
  refused(cluster, {"cluster-pool-ipv4-cidr (10.217.0.0/16)",
                    "ConfigMap kube-system/canal-config net-conf.json Network (10.217.0.0/16)",
                    "node node-1 spec.podCIDR (10.217.1.0/24)"});
}

// (d) calico-node with Calico's default autodetection, unset or named.
BOOST_AUTO_TEST_CASE(calico_first_found_is_refused) {
  for (const std::string method : {"", "first-found"}) {
    SimCluster cluster(2, {"--source-cni", "calico", "--calico-autodetection", method});
    cluster.use_source("calico");
    refused(cluster, {"DaemonSet kube-system/calico-node detects its node IP with",
                      "IP_AUTODETECTION_METHOD=kubernetes-internal-ip"});
  }
}

// (e) Calico on VXLAN with Felix's port (FELIX_VXLANPORT) on Cilium's Geneve
// port 6081: the overlay is learnt from calico-node's env.
BOOST_AUTO_TEST_CASE(calico_vxlan_on_ciliums_port_is_refused) {
  SimCluster cluster(2, {"--source-cni", "calico", "--calico-vxlan-port", "6081"});
  cluster.use_source("calico");
  refused(cluster, {"DaemonSet kube-system/calico-node CALICO_IPV4POOL_VXLAN=Always on DaemonSet "
                    "kube-system/calico-node FELIX_VXLANPORT",
                    "both use UDP port 6081"});
}

// Plan mode runs the same preflight: the same refusal, exit 2, no write.
BOOST_AUTO_TEST_CASE(plan_mode_refuses_the_same_hazard) {
  SimCluster cluster(2, {"--source-pod-cidr", "10.217.0.0/16"});
  refused(cluster, {"cluster-pool-ipv4-cidr (10.217.0.0/16)"}, {});
}

// (f) a Kubernetes older than the applied Cilium (1.18: 1.30 to 1.33) supports.
BOOST_AUTO_TEST_CASE(kubernetes_below_ciliums_range_is_refused) {
  SimCluster cluster(2, {"--server-version", "1.29"});
  refused(cluster, {"the API server runs Kubernetes v1.29.0-cnimig-sim, older than Cilium 1.18.9 "
                    "supports (1.30 to 1.33)"});
}

// (g) a node kernel older than Cilium's 5.10, named by its node.
BOOST_AUTO_TEST_CASE(an_old_kernel_is_refused_naming_the_node) {
  SimCluster cluster(2, {"--kernel-version", "node-1=5.4.0-150-generic"});
  refused(cluster, {"node node-1 runs Linux '5.4.0-150-generic' (status.nodeInfo.kernelVersion); "
                    "Cilium 1.18.9 needs 5.10 or newer"});
}

// (h) a Cilium release the agent's table does not know, without
// ciliumRequirements: refused naming the image.
BOOST_AUTO_TEST_CASE(an_unknown_cilium_release_needs_stated_requirements) {
  SimCluster cluster(2);
  // The shipped reference stays behind as a YAML comment.
  cluster.edit_config(
      {{"images:\n  cilium: ", "images:\n  cilium: mirror.example/cilium/cilium:v1.17.4 # "}});
  refused(cluster, {"cannot tell what Cilium image 'mirror.example/cilium/cilium:v1.17.4' "
                    "requires",
                    "ciliumRequirements"});
}

// A Kubernetes newer than Cilium's tested range is a warning: the migration
// runs to the end.
BOOST_AUTO_TEST_CASE(kubernetes_above_ciliums_range_is_a_warning_only) {
  SimCluster cluster(4, {"--server-version", "1.34"});
  cluster.wait_settled();
  auto r = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(!has_event(events, "preflight.failed"));
  BOOST_TEST(
      std::any_of(
          events.begin(), events.end(),
          [](const boost::json::object& e) {
            return e.at("event").as_string() == "preflight.warning" &&
                   std::string_view(e.at("warning").as_string())
                           .find("newer than Cilium 1.18.9 is e2e tested on (1.30 to 1.33)") !=
                       std::string_view::npos;
          }),
      r.stdout_text);
  BOOST_TEST(has_event(events, "migration.completed"));
  check_migrated(cluster, 1);
}
