#include "cilium_agent_config.hpp"

#include "cnimig/wire/label_selector.hpp"

#include "json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {

using Settings = std::map<std::string, std::string, std::less<>>;

void merge_data(Settings& into, const json::object* data) {
  if (!data)
    return;
  for (const auto& [k, v] : *data)
    if (v.is_string())
      into[std::string(k)] = std::string(v.get_string());
}

// `--key=value` in the containers' command and args (cilium-agent's flags).
void merge_flags(Settings& into, const json::object* pod_spec) {
  const auto* containers = arr(pod_spec, "containers");
  if (!containers)
    return;
  for (const auto& c : *containers) {
    if (!c.is_object())
      continue;
    for (const char* field : {"command", "args"}) {
      const auto* words = arr(&c.get_object(), field);
      if (!words)
        continue;
      for (const auto& w : *words) {
        if (!w.is_string())
          continue;
        const std::string_view word = w.get_string();
        const auto eq = word.find('=');
        if (word.starts_with("--") && eq != std::string_view::npos)
          into[std::string(word.substr(2, eq - 2))] = std::string(word.substr(eq + 1));
      }
    }
  }
}

std::string_view setting(const Settings& s, std::string_view key) {
  auto it = s.find(key);
  return it == s.end() ? std::string_view{} : std::string_view(it->second);
}

}  // namespace

std::string CiliumAgentConfig::cni_config_file(std::string_view default_file) const {
  if (custom_cni_conf)
    return {};
  if (!write_cni_conf.empty())
    return write_cni_conf;
  return std::string(default_file);
}

bool node_config_selects(const json::object& node_config, const json::object* node) {
  const auto* s = spec(node_config);
  const auto* selector = s ? s->if_contains("nodeSelector") : nullptr;
  if (!selector || !selector->is_object())
    return false;
  auto parsed = wire::LabelSelector::from_json(selector->get_object());
  return parsed && parsed->matches(node ? obj(meta(*node), "labels") : nullptr);
}

CiliumAgentConfig effective_cilium_config(const json::object* cilium_config,
                                          const CiliumNodeConfigs& node_configs,
                                          const json::object* node, const json::object* pod_spec) {
  CiliumAgentConfig c;
  Settings settings;
  if (cilium_config) {
    c.configured = true;
    merge_data(settings, obj(*cilium_config, "data"));
  }
  for (const auto& [name, config] : node_configs)
    if (node_config_selects(config, node)) {
      c.configured = true;
      merge_data(settings, obj(spec(config), "defaults"));
    }
  merge_flags(settings, pod_spec);
  c.custom_cni_conf = setting(settings, "custom-cni-conf") == "true";
  const auto path = setting(settings, "write-cni-conf-when-ready");
  c.write_cni_conf = std::string(path.substr(path.rfind('/') + 1));
  if (const auto v = setting(settings, "cni-exclusive"); !v.empty())
    c.cni_exclusive = v == "true";
  c.host_legacy_routing = setting(settings, "enable-host-legacy-routing") == "true";
  return c;
}

}  // namespace cnimig::sim
