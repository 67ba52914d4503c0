#include "cnimig/agent/cilium_native_bundle.hpp"

#include <sstream>

#include "cnimig/wire/object_fields.hpp"

namespace cnimig::agent {
namespace {

constexpr const char* kNodeConfigKind = "CiliumNodeConfig";

// The selector as "k=v, ..." for messages.
std::string describe_labels(const boost::json::object* labels) {
  std::string out;
  if (labels == nullptr)
    return "none";
  for (const auto& [k, v] : *labels) {
    out += (out.empty() ? "" : ", ") + std::string(k) + "=" +
           (v.is_string() ? std::string(v.get_string()) : boost::json::serialize(v));
  }
  return out.empty() ? "none" : out;
}

}  // namespace

Result<std::vector<ManifestBundle>> split_cilium_native(ManifestBundle bundle,
                                                        const config::LabelKeys& labels,
                                                        const std::string& source) {
  std::vector<ManifestObject> cilium;
  std::vector<ManifestObject> node_config;
  for (const auto& o : bundle.objects())
    (o.kind == kNodeConfigKind ? node_config : cilium).push_back(o);
  if (node_config.size() != 1) {
    return make_error(Errc::config, source + ": expected one CiliumNodeConfig, found " +
                                        std::to_string(node_config.size()));
  }
  const auto& cnc = node_config.front();
  const auto* selector = wire::obj(wire::spec(cnc.body), "nodeSelector");
  const auto* match = wire::obj(selector, "matchLabels");
  const bool matches = match != nullptr && match->size() == 1 &&
                       wire::str(match, labels.cilium_default) == labels.value &&
                       wire::obj(selector, "matchExpressions") == nullptr;
  if (!matches) {
    return make_error(Errc::config,
                      source + ": " + cnc.describe() + " selects " + describe_labels(match) +
                          ", but the agent labels the nodes it moves " + labels.cilium_default +
                          "=" + labels.value + " (labels.cilium-default, labels.value)");
  }
  std::vector<ManifestBundle> out;
  out.push_back(ManifestBundle::of("cilium-native", std::move(cilium)));
  out.push_back(ManifestBundle::of("cilium-node-config", std::move(node_config)));
  return out;
}

const ManifestObject* cilium_node_config(const ManifestBundle& bundle) {
  for (const auto& o : bundle.objects()) {
    if (o.kind == kNodeConfigKind)
      return &o;
  }
  return nullptr;
}

void set_cilium_node_config_version(ManifestBundle& bundle, const std::string& api_version) {
  const auto* cnc = cilium_node_config(bundle);
  if (cnc == nullptr)
    return;
  auto* o = bundle.find(cnc->kind, cnc->namespace_, cnc->name);
  if (const auto* info = find_kind(api_version, kNodeConfigKind)) {
    o->info = *info;
    o->body["apiVersion"] = api_version;
  }
}

std::string cilium_pool_cidr(const ManifestBundle& bundle) {
  for (const auto& o : bundle.objects()) {
    if (o.kind != "ConfigMap" || o.name != "cilium-config")
      continue;
    std::istringstream cidrs(
        std::string(wire::str(wire::obj(o.body, "data"), "cluster-pool-ipv4-cidr")));
    std::string first;
    cidrs >> first;
    return first;
  }
  return {};
}

}  // namespace cnimig::agent

namespace cnimig::agent {

std::optional<std::vector<std::string>> api_group_versions(const boost::json::object& group_list,
                                                           std::string_view group) {
  const auto* groups = wire::arr(&group_list, "groups");
  if (groups == nullptr)
    return std::nullopt;
  for (const auto& g : *groups) {
    if (!g.is_object() || wire::str(&g.get_object(), "name") != group)
      continue;
    std::vector<std::string> out;
    if (const auto* versions = wire::arr(&g.get_object(), "versions")) {
      for (const auto& v : *versions) {
        if (v.is_object()) {
          if (auto name = wire::str(&v.get_object(), "version"); !name.empty())
            out.emplace_back(name);
        }
      }
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace cnimig::agent
