#pragma once
// A Cilium agent's effective configuration, taken when its pod starts, as
// cilium-agent reads it: `cilium-dbg build-config` (the agent pod's init step)
// merges the ConfigMap cilium-config with the `defaults` of every
// CiliumNodeConfig in the agent's namespace whose nodeSelector selects the
// node (in name order, a later one overriding an earlier one), and flags on
// the agent's command line override both. Changes after the start reach the
// agent only when its pod is re-created (Cilium's "Per-node configuration"
// documentation). Nothing here comes from a simulator flag.

#include <map>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace cnimig::sim {

struct CiliumAgentConfig {
  // A cilium-config or a selecting CiliumNodeConfig existed at the start
  // (without either, none of the settings below is in effect).
  bool configured = false;
  // custom-cni-conf "true": the agent writes no CNI config file.
  bool custom_cni_conf = false;
  // The basename of write-cni-conf-when-ready ("05-cilium.conflist"), or ""
  // when unset.
  std::string write_cni_conf;
  // cni-exclusive (unset: true, Helm's cni.exclusive default): the agent
  // renames the node's other CNI configs to *.cilium_bak.
  bool cni_exclusive = true;
  // enable-host-legacy-routing "true": traffic leaves pods through the host
  // stack, which routes the other CNI's prefix (cni_config_selection.hpp).
  bool host_legacy_routing = false;

  // The CNI config file the agent writes: none with custom-cni-conf, else
  // write-cni-conf-when-ready's, else `default_file` (its DaemonSet's).
  std::string cni_config_file(std::string_view default_file) const;
  bool exclusive() const { return configured && cni_exclusive; }
  bool operator==(const CiliumAgentConfig&) const = default;
};

// The CiliumNodeConfigs of the agent's namespace, by name.
using CiliumNodeConfigs = std::map<std::string, boost::json::object, std::less<>>;

// `cilium_config`: the ConfigMap's object (null: absent); `node`: the node at
// the agent's start (its labels); `pod_spec`: the agent pod's spec (its
// containers' `--key=value` arguments).
CiliumAgentConfig effective_cilium_config(const boost::json::object* cilium_config,
                                          const CiliumNodeConfigs& node_configs,
                                          const boost::json::object* node,
                                          const boost::json::object* pod_spec);

// Whether a CiliumNodeConfig's spec.nodeSelector selects the node's labels (a
// missing selector selects nothing, an empty one every node: Cilium's
// LabelSelectorAsSelector).
bool node_config_selects(const boost::json::object& node_config, const boost::json::object* node);

}  // namespace cnimig::sim
