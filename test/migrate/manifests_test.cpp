// The manifests in resources/ carry facts the engine relies on: object names
// and namespaces (watched, cleaned up, detected as applied), node selectors on
// the default label keys (which the agent rewrites to the configured ones),
// CNI config file names (the kubelet picks the lexically first), tolerations
// (CNI agents stay everywhere, knet-stress stays on a migrating node).

#define BOOST_TEST_MODULE migrate_manifests
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>
#include <yaml-cpp/yaml.h>

#include "cnimig/migrate/migration_settings.hpp"

namespace {

const cnimig::migrate::MigrationSettings S = cnimig::migrate::MigrationSettings::defaults();

std::vector<YAML::Node> load(const std::string& file) {
  auto docs = YAML::LoadAllFromFile(std::string(CNIMIG_RESOURCES_DIR) + "/" + file);
  std::vector<YAML::Node> out;
  for (auto& d : docs) {
    if (d.IsNull())
      continue;
    BOOST_TEST_REQUIRE(d.IsMap());
    BOOST_TEST(d["apiVersion"].IsScalar());
    BOOST_TEST(d["kind"].IsScalar());
    BOOST_TEST(d["metadata"]["name"].IsScalar());
    out.push_back(d);
  }
  return out;
}

YAML::Node find(const std::vector<YAML::Node>& docs, const std::string& kind,
                const std::string& name) {
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>() == kind && d["metadata"]["name"].as<std::string>() == name)
      return d;
  }
  BOOST_FAIL(kind + " " + name + " not found");
  return {};
}

std::string ns_of(const YAML::Node& d) {
  return d["metadata"]["namespace"] ? d["metadata"]["namespace"].as<std::string>() : "";
}

std::map<std::string, std::string> node_selector(const YAML::Node& ds) {
  std::map<std::string, std::string> out;
  for (const auto& kv : ds["spec"]["template"]["spec"]["nodeSelector"]) {
    out[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  return out;
}

bool tolerates_everything(const YAML::Node& ds) {
  for (const auto& t : ds["spec"]["template"]["spec"]["tolerations"]) {
    if (t["operator"] && t["operator"].as<std::string>() == "Exists" && !t["key"] && !t["effect"])
      return true;
  }
  return false;
}

bool tolerates(const YAML::Node& ds, const std::string& key, const std::string& value,
               const std::string& effect) {
  for (const auto& t : ds["spec"]["template"]["spec"]["tolerations"]) {
    bool key_ok = !t["key"] || t["key"].as<std::string>() == key;
    bool op_exists = t["operator"] && t["operator"].as<std::string>() == "Exists";
    bool value_ok = op_exists || (t["value"] && t["value"].as<std::string>() == value);
    bool effect_ok = !t["effect"] || t["effect"].as<std::string>() == effect;
    if (key_ok && value_ok && effect_ok)
      return true;
  }
  return false;
}

// The selector of a DaemonSet matches its pod template's labels (the API
// server rejects it otherwise).
void check_daemon_set_selector(const YAML::Node& ds) {
  for (const auto& kv : ds["spec"]["selector"]["matchLabels"]) {
    auto labels = ds["spec"]["template"]["metadata"]["labels"];
    BOOST_TEST(labels[kv.first.as<std::string>()].as<std::string>() == kv.second.as<std::string>());
  }
}

}  // namespace

// The migration values of Cilium's guide (k8s-install-migration) as the
// chart renders them into cilium-config.
BOOST_AUTO_TEST_CASE(cilium_bundle) {
  auto docs = load("cilium.yaml");
  auto config = find(docs, "ConfigMap", "cilium-config");
  BOOST_TEST(ns_of(config) == S.system_namespace);
  auto data = config["data"];
  BOOST_TEST(data["routing-mode"].as<std::string>() == "tunnel");
  BOOST_TEST(data["tunnel-protocol"].as<std::string>() == "geneve");
  BOOST_TEST(data["tunnel-port"].as<std::string>() == "6081");
  BOOST_TEST(data["cni-exclusive"].as<std::string>() == "false");
  BOOST_TEST(data["ipam"].as<std::string>() == "cluster-pool");
  BOOST_TEST(data["cluster-pool-ipv4-cidr"].as<std::string>() == "10.217.0.0/16");
  BOOST_TEST(data["enable-policy"].as<std::string>() == "never");
  BOOST_TEST(data["unmanaged-pod-watcher-interval"].as<std::string>() == "0");
  BOOST_TEST(data["enable-host-legacy-routing"].as<std::string>() == "true");
  find(docs, "ServiceAccount", "cilium");
  find(docs, "ClusterRole", "cilium");
  find(docs, "Role", "cilium-config-agent");
  auto binding = find(docs, "ClusterRoleBinding", "cilium");
  BOOST_TEST(binding["subjects"][0]["name"].as<std::string>() == "cilium");
  auto op = find(docs, "Deployment", "cilium-operator");
  BOOST_TEST(op["spec"]["template"]["spec"]["containers"][0]["image"].as<std::string>() ==
             "quay.io/cilium/operator-generic:v1.18.9");

  struct Expect {
    std::string name;
    std::string label;
    std::string conf;
  };
  const auto configured = data["write-cni-conf-when-ready"].as<std::string>();
  for (const auto& e : {Expect{S.cilium_daemon_set, S.labels.calico_cilium, "99-cilium.conf"},
                        Expect{S.cilium_migrated_daemon_set, S.labels.cilium, "00-cilium.conf"}}) {
    auto ds = find(docs, "DaemonSet", e.name);
    BOOST_TEST(ns_of(ds) == S.system_namespace);
    check_daemon_set_selector(ds);
    auto sel = node_selector(ds);
    BOOST_TEST(sel.size() == 2u);
    BOOST_TEST(sel[e.label] == S.labels.value);
    BOOST_TEST(sel["kubernetes.io/os"] == "linux");
    auto spec = ds["spec"]["template"]["spec"];
    BOOST_TEST(spec["hostNetwork"].as<bool>());
    BOOST_TEST(tolerates_everything(ds), e.name);
    auto agent = spec["containers"][0];
    BOOST_TEST(agent["image"].as<std::string>() == "quay.io/cilium/cilium:v1.18.9");
    for (const auto& init : spec["initContainers"])
      BOOST_TEST(init["image"].as<std::string>() == "quay.io/cilium/cilium:v1.18.9");
    // The agent writes its CNI config itself (write-cni-conf-when-ready):
    // the ConfigMap's file unless the DaemonSet's command line overrides it.
    std::string file = configured;
    const std::string flag = "--write-cni-conf-when-ready=";
    for (const auto& a : agent["args"]) {
      if (a.as<std::string>().starts_with(flag))
        file = a.as<std::string>().substr(flag.size());
    }
    BOOST_TEST(file == "/host/etc/cni/net.d/" + e.conf, e.name);
  }
}

// The cilium-native bundle (strategy cilium-native): the values of Cilium's
// migration guide, one agent DaemonSet on every node, and the
// CiliumNodeConfig that gives the selected nodes Cilium as their CNI.
BOOST_AUTO_TEST_CASE(cilium_native_bundle) {
  auto docs = load("cilium-native.yaml");
  auto config = find(docs, "ConfigMap", S.cilium_config_map);
  BOOST_TEST(ns_of(config) == S.system_namespace);
  auto data = config["data"];
  const std::map<std::string, std::string> migration = {
      {"custom-cni-conf", "true"},
      {"cni-exclusive", "false"},
      {"routing-mode", "tunnel"},
      {"tunnel-protocol", "vxlan"},
      {"tunnel-port", "8473"},
      {"ipam", "cluster-pool"},
      {"cluster-pool-ipv4-cidr", S.cilium_pod_cidr},
      {"cluster-pool-ipv4-mask-size", "24"},
      {"enable-policy", "never"},
      {"unmanaged-pod-watcher-interval", "0"},
      {"enable-host-legacy-routing", "true"}};
  for (const auto& [key, value] : migration)
    BOOST_TEST(data[key].as<std::string>() == value, key);
  // No CNI config of its own until a CiliumNodeConfig says where.
  BOOST_TEST(!data["write-cni-conf-when-ready"]);
  // The same pool as the multus strategy's bundle.
  BOOST_TEST(load("cilium.yaml").size() > 0u);
  BOOST_TEST(
      find(load("cilium.yaml"), "ConfigMap", "cilium-config")["data"]["cluster-pool-ipv4-cidr"]
          .as<std::string>() == S.cilium_pod_cidr);
  // What the finish restores differs from every migration value it names.
  for (const auto& [key, value] : S.native_cilium_defaults) {
    if (data[key])
      BOOST_TEST(data[key].as<std::string>() != value, key);
  }

  std::size_t daemon_sets = 0;
  for (const auto& d : docs)
    daemon_sets += d["kind"].as<std::string>() == "DaemonSet" ? 1 : 0;
  BOOST_TEST(daemon_sets == 1u);
  auto ds = find(docs, "DaemonSet", S.cilium_daemon_set);
  BOOST_TEST(ns_of(ds) == S.system_namespace);
  check_daemon_set_selector(ds);
  auto sel = node_selector(ds);
  BOOST_TEST(sel.size() == 1u);  // every (Linux) node
  BOOST_TEST(sel["kubernetes.io/os"] == "linux");
  BOOST_TEST(tolerates_everything(ds));
  auto spec = ds["spec"]["template"]["spec"];
  BOOST_TEST(spec["hostNetwork"].as<bool>());
  BOOST_TEST(spec["containers"][0]["image"].as<std::string>() == "quay.io/cilium/cilium:v1.18.9");
  for (const auto& a : spec["containers"][0]["args"])
    BOOST_TEST(!a.as<std::string>().starts_with("--write-cni-conf-when-ready"));
  auto op = find(docs, "Deployment", S.cilium_operator_deployment);
  BOOST_TEST(op["spec"]["template"]["spec"]["containers"][0]["image"].as<std::string>() ==
             "quay.io/cilium/operator-generic:v1.18.9");
  BOOST_TEST(tolerates_everything(op));

  auto cnc = find(docs, "CiliumNodeConfig", S.cilium_node_config);
  BOOST_TEST(cnc["apiVersion"].as<std::string>() == "cilium.io/v2");
  BOOST_TEST(ns_of(cnc) == S.system_namespace);
  auto match = cnc["spec"]["nodeSelector"]["matchLabels"];
  BOOST_TEST(match.size() == 1u);
  BOOST_TEST(match[S.labels.cilium_default].as<std::string>() == S.labels.value);
  auto defaults = cnc["spec"]["defaults"];
  BOOST_TEST(defaults.size() == 4u);
  BOOST_TEST(defaults["write-cni-conf-when-ready"].as<std::string>() ==
             "/host/etc/cni/net.d/05-cilium.conflist");
  BOOST_TEST(defaults["custom-cni-conf"].as<std::string>() == "false");
  BOOST_TEST(defaults["cni-chaining-mode"].as<std::string>() == "none");
  BOOST_TEST(defaults["cni-exclusive"].as<std::string>() == "true");
  // 05-cilium.conflist is the kubelet's first pick over the source CNI's.
  const cnimig::config::SourceCni source;
  const std::string cilium_conf = "05-cilium.conflist";
  BOOST_TEST((cilium_conf < source.cni_config));
  // The agent may read CiliumNodeConfigs.
  bool reads_cnc = false;
  for (const auto& rule : find(docs, "ClusterRole", "cilium")["rules"]) {
    for (const auto& r : rule["resources"])
      reads_cnc = reads_cnc || r.as<std::string>() == "ciliumnodeconfigs";
  }
  BOOST_TEST(reads_cnc);
}

BOOST_AUTO_TEST_CASE(multus_bundle) {
  auto docs = load("multus.yaml");
  auto crd =
      find(docs, "CustomResourceDefinition", "network-attachment-definitions.k8s.cni.cncf.io");
  BOOST_TEST(crd["spec"]["group"].as<std::string>() == "k8s.cni.cncf.io");
  BOOST_TEST(crd["spec"]["names"]["kind"].as<std::string>() == "NetworkAttachmentDefinition");
  find(docs, "ServiceAccount", "multus");
  find(docs, "ClusterRole", "multus");
  find(docs, "ClusterRoleBinding", "multus");
  auto cm = find(docs, "ConfigMap", "multus-daemon-config");

  // The thick daemon installs its configured conflist under that file's name.
  auto daemon = boost::json::parse(cm["data"]["daemon-config.json"].as<std::string>());
  BOOST_TEST(daemon.at("multusConfigFile").as_string() == "/tmp/multus-conf/00-multus.conflist");
  BOOST_TEST(daemon.at("cniConfigDir").as_string() == "/host/etc/cni/net.d");

  // Primary network first; the attached one chained with sbr.
  auto delegates = [&](const std::string& key) {
    auto json = boost::json::parse(cm["data"][key].as<std::string>());
    const auto& multus = json.at("plugins").at(0);
    BOOST_TEST(multus.at("type").as_string() == "multus-shim");
    return multus.at("delegates").as_array();
  };
  auto first_type = [](const boost::json::value& conflist) {
    return std::string(conflist.at("plugins").at(0).at("type").as_string());
  };
  auto chained_sbr = [](const boost::json::value& conflist) {
    for (const auto& p : conflist.at("plugins").as_array()) {
      if (p.at("type").as_string() == "sbr")
        return true;
    }
    return false;
  };
  auto calico = delegates("calico-primary.conflist");
  BOOST_REQUIRE(calico.size() == 2u);
  BOOST_TEST(first_type(calico[0]) == "calico");
  BOOST_TEST(first_type(calico[1]) == "cilium-cni");
  BOOST_TEST(chained_sbr(calico[1]));
  auto cilium = delegates("cilium-primary.conflist");
  BOOST_REQUIRE(cilium.size() == 2u);
  BOOST_TEST(first_type(cilium[0]) == "cilium-cni");
  BOOST_TEST(first_type(cilium[1]) == "calico");
  BOOST_TEST(chained_sbr(cilium[1]));
  auto source = boost::json::parse(cm["data"]["source-sbr.conflist"].as<std::string>());
  BOOST_TEST(chained_sbr(source));

  struct Expect {
    std::string name;
    std::string label;
    std::string key;
  };
  for (const auto& e :
       {Expect{S.multus_calico_daemon_set, S.labels.cni_priority_calico, "calico-primary.conflist"},
        Expect{S.multus_cilium_daemon_set, S.labels.cni_priority_cilium,
               "cilium-primary.conflist"}}) {
    auto ds = find(docs, "DaemonSet", e.name);
    BOOST_TEST(ns_of(ds) == S.system_namespace);
    check_daemon_set_selector(ds);
    auto sel = node_selector(ds);
    BOOST_TEST(sel.size() == 1u);
    BOOST_TEST(sel[e.label] == S.labels.value);
    auto spec = ds["spec"]["template"]["spec"];
    BOOST_TEST(spec["hostNetwork"].as<bool>());
    BOOST_TEST(tolerates_everything(ds));
    const std::string image = "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.2-thick";
    BOOST_TEST(spec["containers"][0]["image"].as<std::string>() == image);
    BOOST_TEST(spec["initContainers"][0]["image"].as<std::string>() == image);
    BOOST_TEST(spec["containers"][0]["command"][0].as<std::string>() ==
               "/usr/src/multus-cni/bin/multus-daemon");
    // The ConfigMap key lands as 00-multus.conflist in the directory the
    // daemon's multusConfigFile names.
    bool mapped = false;
    for (const auto& v : spec["volumes"]) {
      if (!v["configMap"])
        continue;
      for (const auto& item : v["configMap"]["items"]) {
        if (item["key"].as<std::string>() == e.key &&
            item["path"].as<std::string>() == "00-multus.conflist") {
          mapped = v["name"].as<std::string>() == "multus-conf";
        }
      }
    }
    BOOST_TEST(mapped, e.name);
    bool mounted = false;
    for (const auto& m : spec["containers"][0]["volumeMounts"]) {
      if (m["name"].as<std::string>() == "multus-conf" &&
          m["mountPath"].as<std::string>() == "/tmp/multus-conf")
        mounted = true;
    }
    BOOST_TEST(mounted, e.name);
  }
}

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs a multus daemon's preStop script with its host and own directories
// under `root`; `host` is what 00-multus.conflist holds on the host before
// (nullopt: absent), `own` the daemon's own file. Returns the host's file
// afterwards (nullopt: absent).
std::optional<std::string> run_pre_stop(const std::string& script, const fs::path& root,
                                        const std::optional<std::string>& host,
                                        const std::string& own) {
  fs::remove_all(root);
  fs::create_directories(root / "host");
  fs::create_directories(root / "own");
  std::ofstream(root / "own" / "00-multus.conflist") << own;
  if (host)
    std::ofstream(root / "host" / "00-multus.conflist") << *host;
  auto text = script;
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"/host/etc/cni/net.d", (root / "host").string()},
        {"/tmp/multus-conf", (root / "own").string()}}) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at))
      text.replace(at, from.size(), to);
  }
  std::ofstream(root / "pre-stop.sh") << text;
  const auto rc = std::system(("/bin/sh " + (root / "pre-stop.sh").string()).c_str());
  BOOST_TEST(rc == 0);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(root / "host"))
    left.push_back(e.path().filename().string());
  BOOST_TEST(left.size() <= 1u, "left behind in net.d: " << left.size() << " files");
  if (!fs::exists(root / "host" / "00-multus.conflist"))
    return std::nullopt;
  return read_file(root / "host" / "00-multus.conflist");
}

}  // namespace

// A multus daemon leaving a node removes its own 00-multus.conflist (with
// no daemon, multus-shim would fail every sandbox there), and never the one
// the other multus DaemonSet installed in its place.
BOOST_AUTO_TEST_CASE(multus_pre_stop_removes_only_its_own_config) {
  auto docs = load("multus.yaml");
  const auto root = fs::temp_directory_path() /
                    ("cnimig-multus-prestop-" + std::to_string(std::random_device{}()));
  for (const auto* name : {"kube-multus-calico", "kube-multus-cilium"}) {
    auto ds = find(docs, "DaemonSet", name);
    const auto hook = ds["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"];
    BOOST_TEST_REQUIRE(hook.IsDefined(), name);
    const auto command = hook["exec"]["command"];
    BOOST_TEST_REQUIRE(command.size() == 3u);
    BOOST_TEST(command[0].as<std::string>() == "/bin/sh");
    const auto script = command[2].as<std::string>();
    BOOST_TEST(!run_pre_stop(script, root, "mine", "mine").has_value(), name);
    BOOST_TEST(
        run_pre_stop(script, root, std::string("theirs"), "mine").value_or("(absent)") == "theirs",
        name);
    BOOST_TEST(!run_pre_stop(script, root, std::nullopt, "mine").has_value(), name);
  }
  fs::remove_all(root);
}

BOOST_AUTO_TEST_CASE(knet_stress_bundle) {
  auto docs = load("knet-stress.yaml");
  find(docs, "Namespace", S.knet_stress_namespace);
  find(docs, "ServiceAccount", "knet-stress");
  auto role = find(docs, "Role", "knet-stress");
  BOOST_TEST(role["rules"][0]["resources"][0].as<std::string>() == "endpoints");
  find(docs, "RoleBinding", "knet-stress");
  auto svc = find(docs, "Service", "knet-stress");
  BOOST_TEST(ns_of(svc) == S.knet_stress_namespace);
  auto selector = svc["spec"]["selector"];
  for (const auto& name : S.knet_stress_daemon_sets) {
    auto ds = find(docs, "DaemonSet", name);
    BOOST_TEST(ns_of(ds) == S.knet_stress_namespace);
    check_daemon_set_selector(ds);
    // The Service selects the pods of both DaemonSets.
    for (const auto& kv : selector) {
      BOOST_TEST(ds["spec"]["template"]["metadata"]["labels"][kv.first.as<std::string>()]
                     .as<std::string>() == kv.second.as<std::string>());
    }
    BOOST_TEST(tolerates(ds, S.labels.cilium, S.labels.value, "NoExecute"), name);
    BOOST_TEST(tolerates(ds, "node-role.kubernetes.io/control-plane", "", "NoSchedule"), name);
    BOOST_TEST(!tolerates(ds, "node.kubernetes.io/unreachable", "", "NoExecute"), name);
    BOOST_TEST(!ds["spec"]["template"]["spec"]["hostNetwork"], name);
    BOOST_TEST(ds["spec"]["template"]["spec"]["containers"][0]["image"].as<std::string>() ==
               "gcr.io/jetstack-josh/knet-stress:cli");
  }
}

// The node cleanup runs where the source CNI ran (every node, whatever its
// taints), on the host's network and CNI config directory, with the Cilium
// image (already on every node, and rewritten with it by `images:`), and is
// Ready only after its init container has done the work.
BOOST_AUTO_TEST_CASE(node_cleanup_bundle) {
  auto docs = load("node-cleanup.yaml");
  BOOST_TEST(docs.size() == 1u);
  auto ds = find(docs, "DaemonSet", S.node_cleanup_daemon_set);
  BOOST_TEST(ns_of(ds) == S.system_namespace);
  const auto pod = ds["spec"]["template"]["spec"];
  BOOST_TEST(tolerates_everything(ds));
  BOOST_TEST(pod["hostNetwork"].as<bool>());
  BOOST_TEST(
      (node_selector(ds) == std::map<std::string, std::string>{{"kubernetes.io/os", "linux"}}));
  BOOST_TEST_REQUIRE(pod["initContainers"].size() == 1u);
  const auto init = pod["initContainers"][0];
  BOOST_TEST(init["securityContext"]["privileged"].as<bool>());
  BOOST_TEST(init["image"].as<std::string>() == "quay.io/cilium/cilium:v1.18.9");
  BOOST_TEST(pod["containers"][0]["image"].as<std::string>() == "quay.io/cilium/cilium:v1.18.9");
  BOOST_TEST(!pod["containers"][0]["readinessProbe"]);  // Ready = the init container finished
  bool cni_dir = false;
  for (const auto& v : pod["volumes"])
    cni_dir |= v["hostPath"] && v["hostPath"]["path"].as<std::string>() == "/etc/cni/net.d";
  BOOST_TEST(cni_dir);
  // What it removes, and what it must not: Cilium's own config.
  const auto script = init["command"][2].as<std::string>();
  std::string files;
  for (const auto& e : init["env"])
    files += e["value"].as<std::string>() + " ";
  for (const char* f :
       {"10-canal.conflist", "10-calico.conflist", "10-flannel.conflist", "00-multus.conflist",
        "99-cilium.conf", "cali-|FLANNEL-", "vxlan.calico", "flannel.1", "cni0"})
    BOOST_TEST(files.find(f) != std::string::npos, f);
  BOOST_TEST(script.find("multus.d") != std::string::npos);
  BOOST_TEST(script.find("tunl0") != std::string::npos);
  BOOST_TEST(files.find("00-cilium.conf") == std::string::npos);
  BOOST_TEST(script.find("00-cilium.conf") == std::string::npos);
}
