#include "cnimig/config/config_loader.hpp"

#include <algorithm>
#include <fstream>
#include <random>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig;
using namespace cnimig::config;
namespace fs = std::filesystem;

namespace {

// A scratch directory holding manifests so `paths` resolve.
struct Scratch {
  fs::path dir;
  Scratch() {
    dir = fs::temp_directory_path() /
          ("cnimig-config-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir / "manifests");
    for (const char* name : {"cilium.yaml", "multus.yaml", "cilium-native.yaml", "knet-stress.yaml",
                             "node-cleanup.yaml"}) {
      std::ofstream(dir / "manifests" / name) << "# manifest\n";
    }
  }
  ~Scratch() { fs::remove_all(dir); }
  fs::path config() const { return dir / "config.yaml"; }
};

const char* kMinimal =
    "paths:\n"
    "  cilium: manifests/cilium.yaml\n"
    "  multus: manifests/multus.yaml\n"
    "  knet-stress: manifests/knet-stress.yaml\n"
    "  node-cleanup: manifests/node-cleanup.yaml\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(config_loader)

BOOST_AUTO_TEST_CASE(minimal_config_takes_defaults_and_resolves_paths) {
  Scratch s;
  auto c = parse_config(kMinimal, s.config());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST(c->labels.rolled == "node-role.kubernetes.io/rolled");
  BOOST_TEST(c->labels.value == "true");
  BOOST_TEST(c->paths.cilium == (s.dir / "manifests" / "cilium.yaml"));
  BOOST_TEST(c->paths.cilium.is_absolute());
  BOOST_TEST(c->source_cni.daemonset == "canal");
  BOOST_TEST(c->parallelism.max_parallel_nodes == 1u);
  BOOST_TEST(c->parallelism.max_requests_in_flight == 32u);
  BOOST_TEST(c->timeouts.gate.count() == 15 * 60 * 1000);
  BOOST_TEST(!c->drain.delete_unmanaged_pods);
  BOOST_TEST(c->drain.delete_empty_dir_data);
  BOOST_TEST(c->source == fs::absolute(s.config()));
}

BOOST_AUTO_TEST_CASE(drain_section_is_read) {
  Scratch s;
  auto c = parse_config(
      std::string(kMinimal) + "drain:\n  deleteUnmanagedPods: true\n  deleteEmptyDirData: false\n",
      s.config());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST(c->drain.delete_unmanaged_pods);
  BOOST_TEST(!c->drain.delete_empty_dir_data);
}

// The node-cleanup bundle is required while leftovers are removed (the
// default), and neither required nor read once they are not.
BOOST_AUTO_TEST_CASE(node_cleanup_path_follows_cleanup_node_leftovers) {
  Scratch s;
  const std::string three_paths =
      "paths:\n"
      "  cilium: manifests/cilium.yaml\n"
      "  multus: manifests/multus.yaml\n"
      "  knet-stress: manifests/knet-stress.yaml\n";
  auto ok = parse_config(kMinimal, s.config());
  BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().message));
  BOOST_TEST(ok->cleanup.node_leftovers);
  BOOST_TEST(ok->paths.node_cleanup == s.dir / "manifests" / "node-cleanup.yaml");
  BOOST_TEST(ok->paths.bundles().size() == 4u);

  auto missing = parse_config(three_paths, s.config());
  BOOST_TEST_REQUIRE(missing.has_error());
  BOOST_TEST(missing.error().message.find(":2:3: paths.node-cleanup: is required while "
                                          "cleanup.nodeLeftovers is true") != std::string::npos,
             missing.error().message);

  auto off = parse_config(three_paths + "cleanup:\n  nodeLeftovers: false\n", s.config());
  BOOST_TEST_REQUIRE(off.has_value(), (off ? "" : off.error().message));
  BOOST_TEST(!off->cleanup.node_leftovers);
  BOOST_TEST(off->paths.node_cleanup.empty());
  BOOST_TEST(off->paths.bundles().size() == 3u);
  // A key left in place names no file that must exist.
  auto stale = parse_config(three_paths +
                                "  node-cleanup: manifests/gone.yaml\n"
                                "cleanup:\n  nodeLeftovers: false\n",
                            s.config());
  BOOST_TEST_REQUIRE(stale.has_value(), (stale ? "" : stale.error().message));
  BOOST_TEST(stale->paths.node_cleanup.empty());
}

BOOST_AUTO_TEST_CASE(strategy_defaults_to_multus) {
  Scratch s;
  auto c = parse_config(kMinimal, s.config());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST((c->strategy == Strategy::multus));
  BOOST_TEST(c->labels.cilium_default == "io.cilium.migration/cilium-default");
  BOOST_TEST(c->paths.cilium_native.empty());
}

// cilium-native reads paths.cilium-native and neither needs nor reads the
// multus strategy's bundles; multus likewise ignores paths.cilium-native.
BOOST_AUTO_TEST_CASE(strategy_decides_which_bundles_are_read) {
  Scratch s;
  const std::string native =
      "strategy: cilium-native\n"
      "labels:\n  cilium-default: example.com/cilium\n"
      "paths:\n"
      "  cilium-native: manifests/cilium-native.yaml\n"
      "  cilium: manifests/gone.yaml\n"
      "  knet-stress: manifests/knet-stress.yaml\n"
      "  node-cleanup: manifests/node-cleanup.yaml\n";
  auto c = parse_config(native, s.config());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST((c->strategy == Strategy::cilium_native));
  BOOST_TEST(c->labels.cilium_default == "example.com/cilium");
  BOOST_TEST(c->paths.cilium_native == s.dir / "manifests" / "cilium-native.yaml");
  BOOST_TEST(c->paths.cilium.empty());
  BOOST_TEST(c->paths.multus.empty());
  std::vector<std::string> ids;
  for (const auto& [id, path] : c->paths.bundles())
    ids.push_back(id);
  BOOST_TEST((ids == std::vector<std::string>{"cilium-native", "knet-stress", "node-cleanup"}));

  auto missing = parse_config(
      "strategy: cilium-native\npaths:\n  knet-stress: manifests/knet-stress.yaml\n"
      "  node-cleanup: manifests/node-cleanup.yaml\n",
      s.config());
  BOOST_TEST_REQUIRE(missing.has_error());
  BOOST_TEST(
      missing.error().message.find(":3:3: paths.cilium-native: is required") != std::string::npos,
      missing.error().message);

  // A source CNI config the kubelet would pick before 05-cilium.conflist.
  auto early = parse_config(native + "sourceCNI:\n  cniConfig: 02-early.conflist\n", s.config());
  BOOST_TEST_REQUIRE(early.has_error());
  BOOST_TEST(early.error().message.find(":10:14: sourceCNI.cniConfig: '02-early.conflist' sorts "
                                        "before 05-cilium.conflist") != std::string::npos,
             early.error().message);

  auto multus =
      parse_config(std::string(kMinimal) + "  cilium-native: manifests/gone.yaml\n", s.config());
  BOOST_TEST_REQUIRE(multus.has_value(), (multus ? "" : multus.error().message));
  BOOST_TEST(multus->paths.cilium_native.empty());
}

BOOST_AUTO_TEST_CASE(cleanup_hold_is_read_and_off_by_default) {
  Scratch s;
  auto by_default = parse_config(kMinimal, s.config());
  BOOST_TEST_REQUIRE(by_default.has_value(), (by_default ? "" : by_default.error().message));
  BOOST_TEST(!by_default->cleanup.hold);
  auto held = parse_config(std::string(kMinimal) + "cleanup:\n  hold: true\n", s.config());
  BOOST_TEST_REQUIRE(held.has_value(), (held ? "" : held.error().message));
  BOOST_TEST(held->cleanup.hold);
  BOOST_TEST(held->cleanup.node_leftovers);
}

BOOST_AUTO_TEST_CASE(check_sampling_is_read_and_off_by_default) {
  Scratch s;
  auto by_default = parse_config(kMinimal, s.config());
  BOOST_TEST_REQUIRE(by_default.has_value(), (by_default ? "" : by_default.error().message));
  BOOST_TEST(!by_default->connectivity.sample_nodes.has_value());
  auto sampled =
      parse_config(std::string(kMinimal) + "connectivity:\n  sampleNodes: 20\n", s.config());
  BOOST_TEST_REQUIRE(sampled.has_value(), (sampled ? "" : sampled.error().message));
  BOOST_TEST((sampled->connectivity.sample_nodes == 20u));
}

BOOST_AUTO_TEST_CASE(full_config_is_read) {
  Scratch s;
  const std::string text = std::string(kMinimal) +
                           "labels:\n"
                           "  rolled: example.com/rolled\n"
                           "  value: done\n"
                           "sourceCNI:\n"
                           "  daemonSet: calico-node\n"
                           "  cniConfig: 10-calico.conflist\n"
                           "watchedResources:\n"
                           "  daemonsets:\n"
                           "    kube-system: [calico-node, cilium]\n"
                           "  deployments:\n"
                           "    kube-system:\n"
                           "      - coredns\n"
                           "  statefulsets:\n"
                           "timeouts:\n"
                           "  gate: 1h30m\n"
                           "  probe: 250ms\n"
                           "  gates:\n"
                           "    pods-gone: 2m\n"
                           "parallelism:\n"
                           "  maxParallelNodes: 3\n"
                           "  maxUnavailable: 25%\n"
                           "  maxRequestsInFlight: 64\n"
                           "connectivity:\n"
                           "  parallelism: 8\n"
                           "  command: [/bin/probe, --all]\n";
  auto c = parse_config(text, s.config());
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST(c->labels.rolled == "example.com/rolled");
  BOOST_TEST(c->labels.value == "done");
  BOOST_TEST(c->source_cni.daemonset == "calico-node");
  BOOST_TEST(c->source_cni.cni_config == "10-calico.conflist");
  BOOST_TEST(c->watched_resources.daemonsets.at("kube-system").size() == 2u);
  BOOST_TEST(c->watched_resources.deployments.at("kube-system").front() == "coredns");
  BOOST_TEST(c->watched_resources.statefulsets.empty());
  BOOST_TEST(c->timeouts.gate.count() == 90 * 60 * 1000);
  BOOST_TEST(c->timeouts.probe.count() == 250);
  // A gate named in timeouts.gates takes that timeout; the others keep theirs.
  BOOST_TEST(c->timeouts.for_gate(config::Gate::pods_gone)->count() == 2 * 60 * 1000);
  BOOST_TEST(c->timeouts.for_gate(config::Gate::eviction_blocked)->count() ==
             c->timeouts.drain.count());
  BOOST_TEST(c->timeouts.for_gate(config::Gate::resources_ready)->count() == 90 * 60 * 1000);
  BOOST_TEST(!c->timeouts.for_gate(config::Gate::connectivity_check).has_value());
  BOOST_TEST(c->parallelism.max_parallel_nodes == 3u);
  BOOST_TEST(c->parallelism.max_unavailable.percent);
  BOOST_TEST(c->parallelism.max_unavailable.value == 25u);
  BOOST_TEST(c->parallelism.max_requests_in_flight == 64u);
  BOOST_TEST(c->connectivity.parallelism == 8u);
  BOOST_TEST(c->connectivity.command.size() == 2u);
}

BOOST_AUTO_TEST_CASE(shipped_config_is_valid) {
  auto c = load_config(fs::path(CNIMIG_SOURCE_DIR) / "config" / "config.yaml");
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST(c->watched_resources.daemonsets.at("knet-stress").size() == 2u);
  BOOST_TEST(c->cleanup_resources.daemonsets.at("kube-system").size() == 4u);
}

// The example configurations of the other sources load and name their
// DaemonSet, its CNI config and what cleanup deletes.
BOOST_AUTO_TEST_CASE(shipped_example_configs_are_valid) {
  struct Example {
    const char* file;
    const char* ns;
    const char* daemonset;
    const char* cni_config;
  };
  for (const auto& e :
       {Example{"calico.yaml", "kube-system", "calico-node", "10-calico.conflist"},
        Example{"flannel.yaml", "kube-flannel", "kube-flannel-ds", "10-flannel.conflist"}}) {
    auto c = load_config(fs::path(CNIMIG_SOURCE_DIR) / "config" / e.file);
    BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
    BOOST_TEST(c->source_cni.daemonset == e.daemonset);
    BOOST_TEST(c->source_cni.namespace_ == e.ns);
    BOOST_TEST(c->source_cni.cni_config == e.cni_config);
    const auto& cleanup = c->cleanup_resources.daemonsets.at(e.ns);
    BOOST_TEST((std::find(cleanup.begin(), cleanup.end(), e.daemonset) != cleanup.end()));
    const auto& watched = c->watched_resources.daemonsets.at(e.ns);
    BOOST_TEST((std::find(watched.begin(), watched.end(), e.daemonset) != watched.end()));
    // knet-stress is installed only for the preflight resources found missing:
    // without them the run halts at its first connectivity check.
    const auto& preflight = c->preflight_resources.daemonsets;
    BOOST_TEST_REQUIRE(preflight.contains("knet-stress"), e.file);
    BOOST_TEST(preflight.at("knet-stress").size() == 2u, e.file);
  }
}

BOOST_AUTO_TEST_CASE(unreadable_file_names_the_file) {
  auto c = load_config("/nonexistent/cnimig/config.yaml");
  BOOST_TEST_REQUIRE(c.has_error());
  BOOST_TEST((c.error().code == Errc::config));
  BOOST_TEST(c.error().message.find("/nonexistent/cnimig/config.yaml") != std::string::npos);
}

// Each bad input: the YAML appended to a valid minimal config, and the
// "<line>:<col>: <key>: <text>" the message must contain (line/column 1-based).
struct BadCase {
  const char* name;
  std::string yaml;
  std::string expected;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) {
  return os << c.name;
}

const std::vector<BadCase> kBadCases = {
    {"yaml syntax", "labels: [unclosed\n", ":7:1: invalid YAML"},
    {"unknown top-level key", "lables:\n  rolled: x\n", ":6:1: lables: unknown key"},
    {"unknown label key", "labels:\n  roled: a/b\n", ":7:3: labels.roled: unknown key"},
    {"duplicate key", "labels:\n  rolled: a/b\n  rolled: a/c\n",
     ":8:3: labels.rolled: duplicate key"},
    {"labels not a mapping", "labels: [a, b]\n", ":6:9: labels: expected a mapping, found a list"},
    {"empty label key", "labels:\n  rolled: \"\"\n", ":7:11: labels.rolled: must not be empty"},
    {"label key with spaces", "labels:\n  rolled: not a key\n",
     ":7:11: labels.rolled: invalid label key 'not a key': name part must consist of"},
    {"label key with bad prefix", "labels:\n  rolled: Example.COM/rolled\n",
     ":7:11: labels.rolled: invalid label key 'Example.COM/rolled': prefix part"},
    {"label key name too long", "labels:\n  rolled: a/" + std::string(64, 'x') + "\n",
     "labels.rolled: invalid label key 'a/" + std::string(64, 'x') +
         "': name part must be no more than 63"},
    {"label key reused", "labels:\n  rolled: x/y\n  migrated: x/y\n",
     ":8:13: labels.migrated: label key 'x/y' is already used by labels.rolled"},
    {"bad label value", "labels:\n  value: -true-\n",
     ":7:10: labels.value: invalid label value '-true-'"},
    {"label value is a list", "labels:\n  value: [a]\n",
     ":7:10: labels.value: expected a string, found a list"},
    {"missing manifest", "", ""},  // replaced below: needs a different paths block
    {"bad namespace", "watchedResources:\n  daemonsets:\n    Kube_System: [a]\n",
     ":8:5: watchedResources.daemonsets.Kube_System: invalid namespace 'Kube_System'"},
    {"bad object name", "watchedResources:\n  daemonsets:\n    kube-system: [Cilium]\n",
     ":8:19: watchedResources.daemonsets.kube-system[0]: invalid name 'Cilium'"},
    {"names not a list", "cleanUpResources:\n  daemonsets:\n    kube-system: cilium\n",
     ":8:18: cleanUpResources.daemonsets.kube-system: expected a list of names, found 'cilium'"},
    {"unknown resource kind", "preflightResources:\n  pods:\n    default: [a]\n",
     ":7:3: preflightResources.pods: unknown key"},
    {"name listed twice", "watchedResources:\n  daemonsets:\n    kube-system: [a, a]\n",
     ":8:22: watchedResources.daemonsets.kube-system[1]: 'a' is listed twice"},
    {"bad duration", "timeouts:\n  gate: 15 minutes\n",
     ":7:9: timeouts.gate: invalid duration '15 minutes'"},
    {"zero duration", "timeouts:\n  probe: 0s\n", ":7:10: timeouts.probe: invalid duration '0s'"},
    {"unknown timeout", "timeouts:\n  gatez: 1m\n", ":7:3: timeouts.gatez: unknown key"},
    {"misspelt gate", "timeouts:\n  gates:\n    pod-gone: 1m\n",
     ":8:5: timeouts.gates.pod-gone: unknown gate (expected one of: resources-ready,"},
    {"gate timeout not a duration", "timeouts:\n  gates:\n    pods-gone: soon\n",
     ":8:16: timeouts.gates.pods-gone: invalid duration 'soon'"},
    {"gates not a mapping", "timeouts:\n  gates: 1m\n",
     ":7:10: timeouts.gates: expected a mapping, found '1m'"},
    {"parallel nodes not a number", "parallelism:\n  maxParallelNodes: many\n",
     ":7:21: parallelism.maxParallelNodes: expected an integer from 1 to 10000, found 'many'"},
    {"parallel nodes zero", "parallelism:\n  maxParallelNodes: 0\n",
     "parallelism.maxParallelNodes: expected an integer from 1 to 10000, found '0'"},
    {"requests in flight zero", "parallelism:\n  maxRequestsInFlight: 0\n",
     "parallelism.maxRequestsInFlight: expected an integer from 1 to 1000, found '0'"},
    {"max unavailable over 100%", "parallelism:\n  maxUnavailable: 150%\n",
     ":7:19: parallelism.maxUnavailable: invalid maxUnavailable '150%'"},
    {"parallel exceeds unavailable", "parallelism:\n  maxParallelNodes: 3\n  maxUnavailable: 2\n",
     ":7:3: parallelism: maxParallelNodes (3) exceeds maxUnavailable (2)"},
    {"source cni config sorts wrong", "sourceCNI:\n  cniConfig: 00-aaa.conflist\n",
     ":7:14: sourceCNI.cniConfig: '00-aaa.conflist' must be a file name"},
    {"source cni bad name", "sourceCNI:\n  daemonSet: Calico\n",
     ":7:14: sourceCNI.daemonSet: invalid name 'Calico'"},
    {"connectivity command empty", "connectivity:\n  command: []\n",
     ":7:12: connectivity.command: expected a non-empty list"},
    {"drain flag not a boolean", "drain:\n  deleteUnmanagedPods: yes\n",
     ":7:24: drain.deleteUnmanagedPods: expected true or false, found 'yes'"},
    {"drain flag a list", "drain:\n  deleteEmptyDirData: [true]\n",
     ":7:23: drain.deleteEmptyDirData: expected true or false, found a list"},
    {"unknown drain key", "drain:\n  force: true\n", ":7:3: drain.force: unknown key"},
    {"lease bad namespace", "lease:\n  namespace: kube.system\n",
     ":7:14: lease.namespace: invalid namespace"},
    {"cleanup flag not a boolean", "cleanup:\n  nodeLeftovers: no\n",
     ":7:18: cleanup.nodeLeftovers: expected true or false, found 'no'"},
    {"check sample not a count", "connectivity:\n  sampleNodes: some\n",
     ":7:16: connectivity.sampleNodes: expected an integer from 1 to 100000, found 'some'"},
    {"check sample zero", "connectivity:\n  sampleNodes: 0\n",
     ":7:16: connectivity.sampleNodes: expected an integer from 1 to 100000"},
    {"cleanup hold not a boolean", "cleanup:\n  hold: later\n",
     ":7:9: cleanup.hold: expected true or false, found 'later'"},
    {"unknown cleanup key", "cleanup:\n  leftovers: true\n",
     ":7:3: cleanup.leftovers: unknown key"},
    {"unknown strategy", "strategy: calico\n",
     ":6:11: strategy: unknown strategy 'calico' (expected multus or cilium-native)"},
    {"strategy a list", "strategy: [multus]\n", ":6:11: strategy: expected a string, found a list"},
    {"bad cilium-default label key", "labels:\n  cilium-default: no key\n",
     ":7:19: labels.cilium-default: invalid label key 'no key'"},
    {"cilium-default reuses a key", "labels:\n  cilium-default: node-role.kubernetes.io/migrated\n",
     "labels.cilium-default: label key 'node-role.kubernetes.io/migrated' is already used by "
     "labels.migrated"},
    {"top level not a mapping", "", ""},  // replaced below
};

BOOST_DATA_TEST_CASE(bad_input_names_file_line_and_column, boost::unit_test::data::make(kBadCases),
                     bad) {
  Scratch s;
  std::string text = std::string(kMinimal) + bad.yaml;
  std::string expected = bad.expected;
  if (std::string_view(bad.name) == "missing manifest") {
    text =
        "paths:\n  cilium: manifests/nope.yaml\n  multus: manifests/multus.yaml\n"
        "  knet-stress: manifests/knet-stress.yaml\n  node-cleanup: manifests/node-cleanup.yaml\n";
    expected = ":2:11: paths.cilium: manifest file '" +
               (s.dir / "manifests" / "nope.yaml").string() + "' does not exist";
  } else if (std::string_view(bad.name) == "top level not a mapping") {
    text = "- a\n- b\n";
    expected = ":1:1: expected a mapping at the top level, found a list";
  }
  auto c = parse_config(text, s.config());
  BOOST_TEST_REQUIRE(c.has_error());
  BOOST_TEST((c.error().code == Errc::config));
  const auto& message = c.error().message;
  BOOST_TEST(message.rfind(s.config().string(), 0) == 0u,
             "message starts with the file: " << message);
  BOOST_TEST(message.find(expected) != std::string::npos,
             "expected '" << expected << "' in: " << message);
}

BOOST_AUTO_TEST_CASE(all_problems_are_reported_at_once) {
  Scratch s;
  auto c = parse_config(
      std::string(kMinimal) + "labels:\n  rolled: bad key\n  value: -x\ntimeouts:\n  gate: x\n",
      s.config());
  BOOST_TEST_REQUIRE(c.has_error());
  const auto& m = c.error().message;
  BOOST_TEST(m.find("labels.rolled") != std::string::npos);
  BOOST_TEST(m.find("labels.value") != std::string::npos);
  BOOST_TEST(m.find("timeouts.gate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_paths_section_is_an_error) {
  Scratch s;
  auto c = parse_config("labels:\n  value: \"true\"\n", s.config());
  BOOST_TEST_REQUIRE(c.has_error());
  BOOST_TEST(c.error().message.find("paths: is required") != std::string::npos, c.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
