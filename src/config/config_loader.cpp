#include "cnimig/config/config_loader.hpp"

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "cnimig/config/duration.hpp"
#include "cnimig/config/image_reference.hpp"
#include "cnimig/config/kubernetes_names.hpp"

#include "cilium_requirements_reader.hpp"
#include "yaml_reader.hpp"

namespace cnimig::config {
namespace {

using detail::Reader;

void read_labels(Reader& r, const YAML::Node& node, const YAML::Mark& mark, LabelKeys& labels) {
  if (!r.mapping(node, "labels",
                 {"calico-cilium", "cni-priority-calico", "cni-priority-cilium", "rolled", "cilium",
                  "migrated", "cilium-default", "value"},
                 mark)) {
    return;
  }
  const std::pair<std::string_view, std::string*> keys[] = {
      {"calico-cilium", &labels.calico_cilium},
      {"cni-priority-calico", &labels.cni_priority_calico},
      {"cni-priority-cilium", &labels.cni_priority_cilium},
      {"rolled", &labels.rolled},
      {"cilium", &labels.cilium},
      {"migrated", &labels.migrated},
      {"cilium-default", &labels.cilium_default},
  };
  std::map<std::string, std::string> used;  // label key -> config key, to reject reuse
  for (const auto& [name, target] : keys) {
    YAML::Mark at;
    const auto value = r.child(node, name, at);
    const auto key = Reader::join("labels", name);
    if (r.string(value, key, at, *target)) {
      if (auto why = check_qualified_name(*target); !why.empty()) {
        r.problem(at, key, "invalid label key '" + *target + "': " + why);
        continue;
      }
    }
    if (auto [it, fresh] = used.emplace(*target, std::string(name)); !fresh) {
      r.problem(at, key,
                "label key '" + *target + "' is already used by labels." + it->second +
                    "; every step needs its own label");
    }
  }
  YAML::Mark at;
  const auto value = r.child(node, "value", at);
  if (r.string(value, "labels.value", at, labels.value, /*allow_empty=*/true)) {
    if (auto why = check_label_value(labels.value); !why.empty()) {
      r.problem(at, "labels.value", "invalid label value '" + labels.value + "': " + why);
    }
  }
}

void read_path(Reader& r, const YAML::Node& node, std::string_view name,
               std::filesystem::path& out) {
  YAML::Mark at;
  const auto value = r.child(node, name, at);
  const auto key = Reader::join("paths", name);
  std::string text;
  if (!r.string(value, key, at, text)) {
    if (!value.IsDefined())
      r.problem(at, key, "is required");
    return;
  }
  std::filesystem::path path(text);
  if (path.is_relative())
    path = r.file().parent_path() / path;
  path = path.lexically_normal();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    r.problem(at, key,
              "manifest file '" + path.string() + "' does not exist or is not a regular file");
    return;
  }
  out = path;
}

// kind -> namespace -> [names]
void read_resource_set(Reader& r, const YAML::Node& node, const std::string& key,
                       const YAML::Mark& mark, ResourceSet& out) {
  out = ResourceSet{};
  if (!r.mapping(node, key, {"daemonsets", "deployments", "statefulsets"}, mark))
    return;
  const std::pair<std::string_view, NamespacedNames*> kinds[] = {
      {"daemonsets", &out.daemonsets},
      {"deployments", &out.deployments},
      {"statefulsets", &out.statefulsets}};
  for (const auto& [kind, target] : kinds) {
    YAML::Mark at;
    const auto namespaces = r.child(node, kind, at);
    const auto kind_key = Reader::join(key, kind);
    if (!r.mapping(namespaces, kind_key, {}, at))
      continue;
    for (const auto& entry : namespaces) {
      const auto ns = entry.first.Scalar();
      const auto ns_key = Reader::join(kind_key, ns);
      if (auto why = check_dns1123_label(ns); !why.empty()) {
        r.problem(entry.first.Mark(), ns_key, "invalid namespace '" + ns + "': " + why);
      }
      const auto& names = entry.second;
      if (names.IsNull())
        continue;
      if (!names.IsSequence()) {
        r.problem(Reader::mark_of(names, entry.first.Mark()), ns_key,
                  "expected a list of names, found " + Reader::kind_of(names));
        continue;
      }
      auto& list = (*target)[ns];
      for (std::size_t i = 0; i < names.size(); ++i) {
        const auto item_key = ns_key + "[" + std::to_string(i) + "]";
        std::string name;
        if (!r.string(names[i], item_key, Reader::mark_of(names[i], names.Mark()), name))
          continue;
        if (auto why = check_dns1123_subdomain(name); !why.empty()) {
          r.problem(names[i].Mark(), item_key, "invalid name '" + name + "': " + why);
        } else if (std::find(list.begin(), list.end(), name) != list.end()) {
          r.problem(names[i].Mark(), item_key, "'" + name + "' is listed twice");
        } else {
          list.push_back(name);
        }
      }
    }
  }
}

void read_source_cni(Reader& r, const YAML::Node& node, const YAML::Mark& mark, Strategy strategy,
                     SourceCni& out) {
  if (!r.mapping(node, "sourceCNI", {"daemonSet", "namespace", "cniConfig"}, mark))
    return;
  YAML::Mark at;
  if (auto v = r.child(node, "daemonSet", at);
      r.string(v, "sourceCNI.daemonSet", at, out.daemonset)) {
    if (auto why = check_dns1123_subdomain(out.daemonset); !why.empty()) {
      r.problem(at, "sourceCNI.daemonSet", "invalid name '" + out.daemonset + "': " + why);
    }
  }
  if (auto v = r.child(node, "namespace", at);
      r.string(v, "sourceCNI.namespace", at, out.namespace_)) {
    if (auto why = check_dns1123_label(out.namespace_); !why.empty()) {
      r.problem(at, "sourceCNI.namespace", "invalid namespace '" + out.namespace_ + "': " + why);
    }
  }
  if (auto v = r.child(node, "cniConfig", at);
      r.string(v, "sourceCNI.cniConfig", at, out.cni_config)) {
    // The kubelet picks the lexically first file in /etc/cni/net.d; the
    // source config must sort after 00-multus.conflist and before 99-cilium.conf.
    const auto& f = out.cni_config;
    const bool conf = f.ends_with(".conf") || f.ends_with(".conflist");
    if (f.find('/') != std::string::npos || !conf || !(f > "00-multus.conflist") ||
        !(f < "99-cilium.conf")) {
      r.problem(at, "sourceCNI.cniConfig",
                "'" + f +
                    "' must be a file name ending in .conf or .conflist that sorts after "
                    "00-multus.conflist and "
                    "before 99-cilium.conf (for example 10-canal.conflist)");
    } else if (strategy == Strategy::cilium_native && !(f > "05-cilium.conflist")) {
      // The migrated node's Cilium config must be the kubelet's first pick.
      r.problem(at, "sourceCNI.cniConfig",
                "'" + f +
                    "' sorts before 05-cilium.conflist, the CNI config cilium-native gives "
                    "migrated nodes: the kubelet would keep the source CNI");
    }
  }
}

void read_connectivity(Reader& r, const YAML::Node& node, const YAML::Mark& mark,
                       Connectivity& out) {
  if (!r.mapping(node, "connectivity",
                 {"namespace", "daemonSets", "command", "parallelism", "sampleNodes"}, mark))
    return;
  YAML::Mark at;
  if (auto v = r.child(node, "namespace", at);
      r.string(v, "connectivity.namespace", at, out.namespace_)) {
    if (auto why = check_dns1123_label(out.namespace_); !why.empty()) {
      r.problem(at, "connectivity.namespace", "invalid namespace '" + out.namespace_ + "': " + why);
    }
  }
  const auto read_list = [&](std::string_view name, std::vector<std::string>& target, bool names) {
    YAML::Mark list_at;
    const auto v = r.child(node, name, list_at);
    const auto key = Reader::join("connectivity", name);
    if (!v.IsDefined())
      return;
    if (!v.IsSequence() || v.size() == 0) {
      r.problem(list_at, key, "expected a non-empty list, found " + Reader::kind_of(v));
      return;
    }
    target.clear();
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string item;
      const auto item_key = key + "[" + std::to_string(i) + "]";
      if (!r.string(v[i], item_key, Reader::mark_of(v[i], list_at), item))
        continue;
      if (names) {
        if (auto why = check_dns1123_subdomain(item); !why.empty()) {
          r.problem(v[i].Mark(), item_key, "invalid name '" + item + "': " + why);
        }
      }
      target.push_back(item);
    }
  };
  read_list("daemonSets", out.daemonsets, true);
  read_list("command", out.command, false);
  r.positive(r.child(node, "parallelism", at), "connectivity.parallelism", at, out.parallelism,
             1024);
  if (const auto v = r.child(node, "sampleNodes", at); v.IsDefined()) {
    unsigned sample = 0;
    r.positive(v, "connectivity.sampleNodes", at, sample, 100000);
    if (sample > 0)
      out.sample_nodes = sample;
  }
}

void read_timeouts(Reader& r, const YAML::Node& node, const YAML::Mark& mark, Timeouts& out) {
  if (!r.mapping(node, "timeouts",
                 {"apiRequest", "gate", "connectivity", "probe", "drain", "podDeletion", "rollout",
                  "gates"},
                 mark)) {
    return;
  }
  const std::pair<std::string_view, std::chrono::milliseconds*> fields[] = {
      {"apiRequest", &out.api_request},
      {"gate", &out.gate},
      {"connectivity", &out.connectivity},
      {"probe", &out.probe},
      {"drain", &out.drain},
      {"podDeletion", &out.pod_deletion},
      {"rollout", &out.rollout},
  };
  for (const auto& [name, target] : fields) {
    YAML::Mark at;
    r.duration(r.child(node, name, at), Reader::join("timeouts", name), at, *target);
  }
  YAML::Mark at;
  const auto gates = r.child(node, "gates", at);
  if (!r.mapping(gates, "timeouts.gates", {}, at))
    return;
  for (const auto& entry : gates) {
    const auto name = entry.first.Scalar();
    const auto key = Reader::join("timeouts.gates", name);
    const auto gate = parse_gate(name);
    if (!gate) {
      std::string known;
      for (Gate g : kAllGates)
        known += (known.empty() ? "" : ", ") + std::string(to_string(g));
      r.problem(entry.first.Mark(), key, "unknown gate (expected one of: " + known + ")");
      continue;
    }
    std::chrono::milliseconds value{};
    if (r.duration(entry.second, key, Reader::mark_of(entry.second, entry.first.Mark()), value))
      out.gates[*gate] = value;
  }
}

void read_parallelism(Reader& r, const YAML::Node& node, const YAML::Mark& mark, Parallelism& out) {
  if (!r.mapping(node, "parallelism", {"maxParallelNodes", "maxUnavailable", "maxRequestsInFlight"},
                 mark))
    return;
  YAML::Mark at;
  r.positive(r.child(node, "maxParallelNodes", at), "parallelism.maxParallelNodes", at,
             out.max_parallel_nodes, 10000);
  r.positive(r.child(node, "maxRequestsInFlight", at), "parallelism.maxRequestsInFlight", at,
             out.max_requests_in_flight, 1000);
  const auto v = r.child(node, "maxUnavailable", at);
  if (v.IsDefined()) {
    auto parsed =
        v.IsScalar()
            ? parse_max_unavailable(v.Scalar())
            : Result<MaxUnavailable>(make_error(Errc::config, "expected a count or a percentage"));
    if (parsed) {
      out.max_unavailable = *parsed;
    } else {
      r.problem(at, "parallelism.maxUnavailable", parsed.error().message);
    }
  }
  if (!out.max_unavailable.percent && out.max_parallel_nodes > out.max_unavailable.value) {
    r.problem(mark, "parallelism",
              "maxParallelNodes (" + std::to_string(out.max_parallel_nodes) +
                  ") exceeds maxUnavailable (" + std::to_string(out.max_unavailable.value) + ")");
  }
}

void read_drain(Reader& r, const YAML::Node& node, const YAML::Mark& mark, DrainSettings& out) {
  if (!r.mapping(node, "drain", {"deleteUnmanagedPods", "deleteEmptyDirData"}, mark))
    return;
  YAML::Mark at;
  r.boolean(r.child(node, "deleteUnmanagedPods", at), "drain.deleteUnmanagedPods", at,
            out.delete_unmanaged_pods);
  r.boolean(r.child(node, "deleteEmptyDirData", at), "drain.deleteEmptyDirData", at,
            out.delete_empty_dir_data);
}

void read_cleanup(Reader& r, const YAML::Node& node, const YAML::Mark& mark, CleanupSettings& out) {
  if (!r.mapping(node, "cleanup", {"nodeLeftovers", "hold"}, mark))
    return;
  YAML::Mark at;
  r.boolean(r.child(node, "nodeLeftovers", at), "cleanup.nodeLeftovers", at, out.node_leftovers);
  r.boolean(r.child(node, "hold", at), "cleanup.hold", at, out.hold);
}

// Only the strategy's bundles are read and required: a key for the other
// strategy's bundle names no file that must exist.
void read_paths(Reader& r, const YAML::Node& paths, const YAML::Mark& mark, Strategy strategy,
                const CleanupSettings& cleanup, ManifestPaths& out) {
  const bool native = strategy == Strategy::cilium_native;
  const char* required = native ? "is required (cilium-native and knet-stress manifest files)"
                                : "is required (cilium, multus and knet-stress manifest files)";
  if (!paths.IsDefined() || paths.IsNull()) {
    r.problem(mark, "paths", required);
    return;
  }
  if (!r.mapping(paths, "paths",
                 {"cilium", "multus", "cilium-native", "knet-stress", "node-cleanup"}, mark))
    return;
  if (native) {
    read_path(r, paths, "cilium-native", out.cilium_native);
  } else {
    read_path(r, paths, "cilium", out.cilium);
    read_path(r, paths, "multus", out.multus);
  }
  read_path(r, paths, "knet-stress", out.knet_stress);
  YAML::Mark at;
  if (!cleanup.node_leftovers) {
    // Not read, so that a left-over key names no file that must exist.
    return;
  }
  if (!r.child(paths, "node-cleanup", at).IsDefined()) {
    r.problem(at, "paths.node-cleanup",
              "is required while cleanup.nodeLeftovers is true (the DaemonSet that removes the "
              "source CNI's files, iptables chains and interfaces from each node; the shipped one "
              "is resources/node-cleanup.yaml); set cleanup.nodeLeftovers: false to leave them");
    return;
  }
  read_path(r, paths, "node-cleanup", out.node_cleanup);
}

void read_strategy(Reader& r, const YAML::Node& node, const YAML::Mark& mark, Strategy& out) {
  std::string text;
  if (!r.string(node, "strategy", mark, text))
    return;
  if (auto parsed = parse_strategy(text)) {
    out = *parsed;
  } else {
    r.problem(mark, "strategy",
              "unknown strategy '" + text + "' (expected multus or cilium-native)");
  }
}

void read_lease(Reader& r, const YAML::Node& node, const YAML::Mark& mark, LeaseSettings& out) {
  if (!r.mapping(node, "lease", {"name", "namespace", "duration"}, mark))
    return;
  YAML::Mark at;
  if (auto v = r.child(node, "name", at); r.string(v, "lease.name", at, out.name)) {
    if (auto why = check_dns1123_subdomain(out.name); !why.empty()) {
      r.problem(at, "lease.name", "invalid name '" + out.name + "': " + why);
    }
  }
  if (auto v = r.child(node, "namespace", at); r.string(v, "lease.namespace", at, out.namespace_)) {
    if (auto why = check_dns1123_label(out.namespace_); !why.empty()) {
      r.problem(at, "lease.namespace", "invalid namespace '" + out.namespace_ + "': " + why);
    }
  }
  r.duration(r.child(node, "duration", at), "lease.duration", at, out.duration);
}

void read_images(Reader& r, const YAML::Node& node, const YAML::Mark& mark, Images& out) {
  if (!r.mapping(node, "images", {"cilium", "ciliumOperator", "multus", "knetStress"}, mark))
    return;
  const std::pair<const char*, std::string*> keys[] = {{"cilium", &out.cilium},
                                                       {"ciliumOperator", &out.cilium_operator},
                                                       {"multus", &out.multus},
                                                       {"knetStress", &out.knet_stress}};
  for (const auto& [name, field] : keys) {
    YAML::Mark at;
    const auto key = std::string("images.") + name;
    if (r.string(r.child(node, name, at), key, at, *field)) {
      if (auto why = check_image_reference(*field); !why.empty())
        r.problem(at, key, "invalid image reference '" + *field + "': " + why);
    }
  }
}

}  // namespace

Result<Config> parse_config(std::string_view yaml, const std::filesystem::path& file) {
  Reader r(std::filesystem::absolute(file).lexically_normal());
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    r.problem(e.mark, "", "invalid YAML: " + e.msg);
    return make_error(Errc::config, r.problems().front());
  }

  Config config;
  config.source = r.file();
  const YAML::Mark top{};
  if (!root.IsMap()) {
    r.problem(Reader::mark_of(root, top), "",
              "expected a mapping at the top level, found " + Reader::kind_of(root));
    return make_error(Errc::config, r.problems().front());
  }
  r.mapping(root, "",
            {"strategy", "labels", "paths", "sourceCNI", "preflightResources", "watchedResources",
             "cleanUpResources", "connectivity", "timeouts", "parallelism", "drain", "cleanup",
             "lease", "images", "ciliumRequirements"},
            top);

  YAML::Mark at;
  // strategy and cleanup first: they decide which paths are required.
  read_strategy(r, r.child(root, "strategy", at), at, config.strategy);
  read_labels(r, r.child(root, "labels", at), at, config.labels);
  read_cleanup(r, r.child(root, "cleanup", at), at, config.cleanup);
  read_paths(r, r.child(root, "paths", at), at, config.strategy, config.cleanup, config.paths);
  read_source_cni(r, r.child(root, "sourceCNI", at), at, config.strategy, config.source_cni);
  read_resource_set(r, r.child(root, "preflightResources", at), "preflightResources", at,
                    config.preflight_resources);
  read_resource_set(r, r.child(root, "watchedResources", at), "watchedResources", at,
                    config.watched_resources);
  read_resource_set(r, r.child(root, "cleanUpResources", at), "cleanUpResources", at,
                    config.cleanup_resources);
  read_connectivity(r, r.child(root, "connectivity", at), at, config.connectivity);
  read_timeouts(r, r.child(root, "timeouts", at), at, config.timeouts);
  read_parallelism(r, r.child(root, "parallelism", at), at, config.parallelism);
  read_drain(r, r.child(root, "drain", at), at, config.drain);
  read_lease(r, r.child(root, "lease", at), at, config.lease);
  read_images(r, r.child(root, "images", at), at, config.images);
  detail::read_cilium_requirements(r, r.child(root, "ciliumRequirements", at), at,
                                   config.cilium_requirements);

  if (!r.problems().empty()) {
    std::string message;
    for (const auto& p : r.problems())
      message += (message.empty() ? "" : "\n") + p;
    return make_error(Errc::config, std::move(message));
  }
  return config;
}

Result<Config> load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return make_error(Errc::config, file.string() + ": cannot read the configuration file");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file);
}

}  // namespace cnimig::config
