#pragma once
// The e2e fixture: a cnimig-sim child with its kubeconfig in a scratch
// directory, the agent and kubectl run against it, and the referees' checks
// of a finished migration (kubectl's view and the simulator's oracle).
// Test executables get CNIMIG_AGENT_BIN, CNIMIG_SIM_BIN and CNIMIG_SOURCE_DIR
// from cnimig_e2e_test() in test/e2e/CMakeLists.txt.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "support/background_process.hpp"
#include "support/process.hpp"

namespace cnimig::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A cnimig-sim for one test, with its kubeconfig in a scratch directory.
// AttachedSimCluster (attached_sim_cluster.hpp) is the same fixture over a
// real control plane with `cnimig-sim --attach`.
struct SimCluster {
  fs::path dir =
      fs::temp_directory_path() / ("cnimig-e2e-" + std::to_string(std::random_device{}()));
  // What the agent and kubectl use: the cluster's API server.
  fs::path kubeconfig = dir / "kubeconfig";
  // The simulator's own API (/sim/v1/report, /sim/v1/faults): the same
  // server unless the simulator is attached to a real one.
  fs::path sim_kubeconfig = kubeconfig;
  std::unique_ptr<BackgroundProcess> sim;

  // `extra_args` go to cnimig-sim after the defaults (e.g. {"--faults", "..."}).
  int nodes;
  // The source CNI and the agent's configuration for it (use_source()).
  std::string config = CNIMIG_SOURCE_DIR "/config/config.yaml";
  std::string source_namespace = "kube-system";
  std::string source_daemonset = "canal";
  // The configuration's cleanup.nodeLeftovers (check_migrated expects no
  // leftovers then).
  bool node_leftovers_removed = true;
  // The configuration's strategy (use_strategy()); check_migrated checks
  // that strategy's end state.
  std::string strategy = "multus";

  explicit SimCluster(int node_count, std::vector<std::string> extra_args = {})
      : nodes(node_count) {
    fs::create_directories(dir);
    std::vector<std::string> argv = {CNIMIG_SIM_BIN, "--nodes", std::to_string(node_count),
                                     "--kubeconfig-out", kubeconfig.string()};
    add_sim_defaults(argv, extra_args);
    launch(argv, "\"sim.ready\"", 60s);
  }

 protected:
  // For a variant that launches its own simulator (launch()).
  struct Deferred {};
  SimCluster(int node_count, Deferred) : nodes(node_count) { fs::create_directories(dir); }

  // The e2e defaults: two application pods per node, delays at 1/20.
  static void add_sim_defaults(std::vector<std::string>& argv,
                               const std::vector<std::string>& extra_args) {
    argv.insert(argv.end(), {"--pods-per-node", "2", "--time-scale", "0.05"});
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  }
  // Starts `argv` and waits for its stdout line containing `ready_marker`.
  void launch(const std::vector<std::string>& argv, const std::string& ready_marker,
              std::chrono::milliseconds timeout, const std::vector<std::string>& env = {}) {
    sim = std::make_unique<BackgroundProcess>(argv, env);
    auto ready = sim->wait_for_line(
        [&](const std::string& l) { return l.find(ready_marker) != std::string::npos; }, timeout);
    BOOST_TEST_REQUIRE(ready.has_value(),
                       "cnimig-sim did not become ready: " << sim->diagnostics());
  }

 public:
  ~SimCluster() {
    sim.reset();
    fs::remove_all(dir);
  }

  // The agent configuration and source DaemonSet of a cluster started with
  // `--source-cni cni`: config/config.yaml (canal), config/calico.yaml,
  // config/flannel.yaml.
  void use_source(std::string_view cni) {
    if (cni == "calico") {
      config = CNIMIG_SOURCE_DIR "/config/calico.yaml";
      source_namespace = "kube-system";
      source_daemonset = "calico-node";
    } else if (cni == "flannel") {
      config = CNIMIG_SOURCE_DIR "/config/flannel.yaml";
      source_namespace = "kube-flannel";
      source_daemonset = "kube-flannel-ds";
    }
  }

  // A copy of the configuration in the scratch directory, each `from`
  // replaced by its `to` (each must occur), its manifest paths made
  // absolute; the agent runs with it from then on.
  void edit_config(const std::vector<std::pair<std::string, std::string>>& replacements) {
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto replace = [&](const std::string& from, const std::string& to) {
      const auto at = text.find(from);
      BOOST_TEST_REQUIRE(at != std::string::npos, config << " has no '" << from << "'");
      text.replace(at, from.size(), to);
    };
    // cilium, multus, cilium-native, knet-stress, node-cleanup
    replace(": ../resources/", ": " CNIMIG_SOURCE_DIR "/resources/");
    for (auto at = text.find(": ../resources/"); at != std::string::npos;
         at = text.find(": ../resources/"))
      text.replace(at, 15, ": " CNIMIG_SOURCE_DIR "/resources/");
    for (const auto& [from, to] : replacements)
      replace(from, to);
    config = (dir / "config.yaml").string();
    std::ofstream(config, std::ios::trunc) << text;
  }

  // The agent runs `name` ("multus", "cilium-native") from then on.
  // (config/calico.yaml and flannel.yaml name none: the default, multus.)
  void use_strategy(const std::string& name) {
    if (name == strategy)
      return;
    std::ifstream in(config);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("\nstrategy: ") != std::string::npos) {
      edit_config({{"\nstrategy: " + strategy, "\nstrategy: " + name}});
    } else {
      edit_config({{"\npaths:", "\nstrategy: " + name + "\npaths:"}});
    }
    strategy = name;
  }

  // The agent's argv with the configuration and this cluster's kubeconfig.
  std::vector<std::string> agent_argv(std::vector<std::string> args) const {
    args.insert(args.begin(),
                {CNIMIG_AGENT_BIN, "--config", config, "--kubeconfig", kubeconfig.string()});
    return args;
  }
  ProcessResult agent(std::vector<std::string> args) const {
    return run_process(agent_argv(std::move(args)), {}, 600s);
  }
  ProcessResult kubectl(std::vector<std::string> args) const {
    args.insert(args.begin(), "kubectl");
    return run_process(args, {"KUBECONFIG=" + kubeconfig.string()}, 60s);
  }
  // kubectl against the simulator's own API.
  ProcessResult sim_kubectl(std::vector<std::string> args) const {
    args.insert(args.begin(), "kubectl");
    return run_process(args, {"KUBECONFIG=" + sim_kubeconfig.string()}, 60s);
  }
  // Replaces the simulator's faults at runtime (PUT /sim/v1/faults through
  // kubectl; an empty spec clears them all) and returns what it now applies.
  boost::json::object put_faults(const std::string& spec) const {
    const auto file = dir / "faults";
    std::ofstream(file, std::ios::trunc) << spec;
    auto r = sim_kubectl({"replace", "--raw", "/sim/v1/faults", "-f", file.string()});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
    return boost::json::parse(r.stdout_text).as_object();
  }
  // Waits, as an operator would before planning, until the fresh cluster's
  // CNI and kube-proxy run on every node: the plan of a cluster whose CNI is
  // still starting halts at its first gate.
  void wait_settled() const {
    for (const auto& [ns, ds] :
         {std::pair{source_namespace, source_daemonset},
          std::pair{std::string("kube-system"), std::string("kube-proxy")}}) {
      auto settled =
          kubectl({"wait", "--for=jsonpath={.status.numberReady}=" + std::to_string(nodes), "-n",
                   ns, "daemonset/" + ds, "--timeout=120s"});
      BOOST_TEST_REQUIRE(settled.exit_code == 0, settled.stderr_text);
    }
  }
  boost::json::object report() const {
    auto r = sim_kubectl({"get", "--raw", "/sim/v1/report"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
    return boost::json::parse(r.stdout_text).as_object();
  }
};

// The strategies the parameterised suites run (config `strategy`).
inline const std::vector<std::string> kStrategies = {"multus", "cilium-native"};

inline std::vector<boost::json::object> events_of(const ProcessResult& r) {
  std::vector<boost::json::object> out;
  for (const auto& line : lines(r.stdout_text))
    out.push_back(boost::json::parse(line).as_object());
  return out;
}

// Whether an agent's stdout line is the event `name`.
inline bool is_event(const std::string& line, std::string_view name) {
  return line.find("\"event\":\"" + std::string(name) + "\"") != std::string::npos;
}

inline bool has_event(const std::vector<boost::json::object>& events, std::string_view name) {
  return std::any_of(events.begin(), events.end(),
                     [&](const auto& e) { return e.at("event").as_string() == name; });
}

inline std::int64_t request_count(const boost::json::object& report, std::string_view prefix) {
  std::int64_t n = 0;
  for (const auto& [key, value] : report.at("requests").as_object()) {
    if (std::string_view(key).starts_with(prefix) && value.is_int64())
      n += value.as_int64();
  }
  return n;
}

// No node is left cordoned or tainted, or keeps a migration label or one of
// the agent's annotations.
inline void check_nodes_left_clean(const SimCluster& cluster) {
  auto nodes = cluster.kubectl({"get", "nodes", "-o", "json"});
  BOOST_TEST_REQUIRE(nodes.exit_code == 0);
  const auto node_list = boost::json::parse(nodes.stdout_text);
  for (const auto& node : node_list.at("items").as_array()) {
    const auto& meta = node.at("metadata").as_object();
    const auto name = std::string(meta.at("name").as_string());
    const auto& spec = node.at("spec").as_object();
    BOOST_TEST(!(spec.contains("unschedulable") && spec.at("unschedulable").is_bool() &&
                 spec.at("unschedulable").as_bool()),
               name << " left cordoned");
    BOOST_TEST((!spec.contains("taints") || spec.at("taints").is_null() ||
                spec.at("taints").as_array().empty()),
               name << " left tainted");
    if (const auto* labels = meta.if_contains("labels")) {
      for (const auto& [key, value] : labels->as_object()) {
        BOOST_TEST((!std::string_view(key).starts_with("node-role.kubernetes.io/") &&
                    !std::string_view(key).starts_with("io.cilium.migration/")),
                   name << " keeps label " << key);
      }
    }
    if (const auto* annotations = meta.if_contains("annotations")) {
      for (const auto& [key, value] : annotations->as_object()) {
        BOOST_TEST(!std::string_view(key).starts_with("cnimig.io/"),
                   name << " keeps annotation " << key);
      }
    }
  }
}

// The oracle: no pair of pods lost each other at any time, and the
// exemption for cordoned nodes was never stretched past the budget; the
// source CNI's leftovers are gone unless the configuration kept them.
inline void check_oracle(const SimCluster& cluster, unsigned budget) {
  const auto report = cluster.report();
  BOOST_TEST(report.at("violations").at("max_concurrent").as_int64() == 0,
             boost::json::serialize(report));
  if (cluster.node_leftovers_removed)
    BOOST_TEST(report.at("nodes_with_leftovers").as_int64() == 0);
  BOOST_TEST(report.at("violations").at("episodes").as_int64() == 0);
  BOOST_TEST(report.at("cordoned").at("max_at_once").as_int64() <=
             static_cast<std::int64_t>(budget));
  BOOST_TEST(report.at("cordoned").at("max_at_once").as_int64() >= 1);
}

// Strategy cilium-native's end (src/migrate/README.md): one `cilium`
// DaemonSet left of Cilium, no CiliumNodeConfig, the source CNI and the node
// cleanup gone, cilium-config at Cilium's defaults, every pod that has its
// own network on an address of Cilium's pool.
inline void check_native_migrated(const SimCluster& cluster, unsigned budget) {
  auto ds =
      cluster.kubectl({"get", "daemonsets", "-A", "-o", "jsonpath={.items[*].metadata.name}"});
  BOOST_TEST_REQUIRE(ds.exit_code == 0, ds.stderr_text);
  std::set<std::string> names;
  std::istringstream in(ds.stdout_text);
  for (std::string name; in >> name;)
    names.insert(name);
  for (const std::string& gone :
       {cluster.source_daemonset, std::string("cilium-migrated"), std::string("kube-multus-calico"),
        std::string("kube-multus-cilium"), std::string("cnimig-node-cleanup")}) {
    BOOST_TEST(!names.contains(gone), gone << " is left");
  }
  BOOST_TEST(names.contains("cilium"));
  auto cnc = cluster.kubectl({"get", "ciliumnodeconfigs", "-A", "-o", "name"});
  BOOST_TEST((cnc.exit_code != 0 || cnc.stdout_text.empty()),
             "CiliumNodeConfigs left: " << cnc.stdout_text);
  auto config = cluster.kubectl(
      {"get", "configmap", "-n", "kube-system", "cilium-config", "-o",
       "jsonpath={.data.custom-cni-conf} {.data.cni-exclusive} {.data.enable-policy} "
       "{.data.unmanaged-pod-watcher-interval} {.data.write-cni-conf-when-ready}"});
  BOOST_TEST(config.exit_code == 0, config.stderr_text);
  BOOST_TEST(config.stdout_text == "false true default 15 /host/etc/cni/net.d/05-cilium.conflist");
  auto pods = cluster.kubectl({"get", "pods", "-A", "-o", "json"});
  BOOST_TEST_REQUIRE(pods.exit_code == 0, pods.stderr_text);
  const auto pod_list = boost::json::parse(pods.stdout_text);
  std::size_t checked = 0;
  for (const auto& pod : pod_list.at("items").as_array()) {
    const auto& spec = pod.at("spec").as_object();
    if (const auto* host = spec.if_contains("hostNetwork");
        host && host->is_bool() && host->as_bool())
      continue;
    const auto* status = pod.as_object().if_contains("status");
    const auto* ip = status ? status->as_object().if_contains("podIP") : nullptr;
    const std::string name(pod.at("metadata").at("name").as_string());
    BOOST_TEST_REQUIRE(ip != nullptr, name << " has no podIP");
    BOOST_TEST(std::string_view(ip->as_string()).starts_with("10.217."),
               name << " on " << ip->as_string() << ", not Cilium's 10.217.0.0/16");
    ++checked;
  }
  BOOST_TEST(checked > 0u);
  check_nodes_left_clean(cluster);
  check_oracle(cluster, budget);
}

inline void check_migrated(const SimCluster& cluster, unsigned budget) {
  if (cluster.strategy == "cilium-native") {
    check_native_migrated(cluster, budget);
    return;
  }
  // kubectl, the outside referee: what is left in the cluster.
  auto ds = cluster.kubectl({"get", "daemonsets", "-A", "-o", "json"});
  BOOST_TEST_REQUIRE(ds.exit_code == 0, ds.stderr_text);
  std::set<std::string> names;
  const auto ds_list = boost::json::parse(ds.stdout_text);  // kept: the loop refers into it
  for (const auto& item : ds_list.at("items").as_array()) {
    names.insert(std::string(item.at("metadata").at("name").as_string()));
    if (item.at("metadata").at("name").as_string() == "cilium-migrated") {
      // Only the chart's own kubernetes.io/os: linux is left: every new
      // (Linux) node gets Cilium.
      const auto& spec = item.at("spec").at("template").at("spec").as_object();
      if (const auto* selector = spec.if_contains("nodeSelector")) {
        for (const auto& [key, value] : selector->as_object()) {
          BOOST_TEST((key == "kubernetes.io/os" && value == "linux"),
                     "cilium-migrated keeps node selector " << key << " after cleanup");
        }
      }
    }
  }
  // The node cleanup ran and was deleted again (the nodes' labels, checked
  // below, came off only once it had run on each).
  for (const std::string& gone :
       {cluster.source_daemonset, std::string("cilium"), std::string("kube-multus-calico"),
        std::string("kube-multus-cilium"), std::string("cnimig-node-cleanup")}) {
    BOOST_TEST(!names.contains(gone), gone << " was not removed");
  }
  BOOST_TEST(names.contains("cilium-migrated"));
  // The migration-only Cilium settings are back at Cilium's defaults.
  auto config = cluster.kubectl({"get", "configmap", "-n", "kube-system", "cilium-config", "-o",
                                 "jsonpath={.data.enable-policy} "
                                 "{.data.unmanaged-pod-watcher-interval}"});
  BOOST_TEST(config.exit_code == 0, config.stderr_text);
  BOOST_TEST(config.stdout_text == "default 15");
  check_nodes_left_clean(cluster);
  check_oracle(cluster, budget);
}

}  // namespace cnimig::test
