// Reading the CNI stack's facts out of objects: cilium-config, Nodes, the
// source CNI's DaemonSet, Calico IPPools, flannel's net-conf.json and
// ServiceCIDRs. Pure: the driver fetches, these read.

#include <sstream>

#include <boost/json/parse.hpp>

#include "cnimig/agent/cni_stack_preflight.hpp"
#include "cnimig/wire/object_fields.hpp"

namespace cnimig::agent {
namespace {

std::string name_of(const boost::json::object& o) {
  return std::string(wire::str(wire::obj(o, "metadata"), "name"));
}

// The default UDP port of an overlay, as the CNIs use it.
unsigned default_port(const std::string& protocol) {
  if (protocol == "vxlan")
    return 8472;  // Linux's (and flannel's, Cilium's) VXLAN port
  if (protocol == "geneve")
    return 6081;
  return 0;
}

unsigned port_of(const std::string& text, unsigned fallback) {
  try {
    return text.empty() ? fallback : static_cast<unsigned>(std::stoul(text));
  } catch (const std::exception&) {
    return fallback;
  }
}

// calico-node's env: the autodetection method, the pool, the overlay the
// default pool gets (CALICO_IPV4POOL_IPIP / _VXLAN) and Felix's vxlanPort.
void add_calico_env_facts(const boost::json::array& env, migrate::CniStackFacts& facts) {
  const auto& ds = facts.calico_daemon_set;
  bool none_backend = false;
  std::vector<migrate::Overlay> overlays;
  for (const auto& e : env) {
    if (!e.is_object())
      continue;
    const auto var = std::string(wire::str(&e.get_object(), "name"));
    const auto value = std::string(wire::str(&e.get_object(), "value"));
    if (var == "IP_AUTODETECTION_METHOD")
      facts.calico_autodetection = value;
    else if (var == "CALICO_NETWORKING_BACKEND" && value == "none")
      none_backend = true;
    else if (var == "CALICO_IPV4POOL_CIDR" && !value.empty())
      facts.source_cidrs.push_back({ds + " CALICO_IPV4POOL_CIDR", value});
    else if (var == "CALICO_IPV4POOL_VXLAN" && (value == "Always" || value == "CrossSubnet"))
      overlays.push_back({ds + " CALICO_IPV4POOL_VXLAN=" + value, "vxlan", 0, true});
    else if (var == "CALICO_IPV4POOL_IPIP" && (value == "Always" || value == "CrossSubnet"))
      overlays.push_back({ds + " CALICO_IPV4POOL_IPIP=" + value, "ipip", 0});
    else if (var == "FELIX_VXLANPORT" && !value.empty())
      facts.felix_vxlan_port_env = migrate::PortSetting{ds + " FELIX_VXLANPORT", port_of(value, 0)};
  }
  // Canal: Calico does policy only and flannel routes (over the default
  // route's interface), so the node IP Calico detects carries no traffic,
  // and no Calico overlay runs.
  if (none_backend) {
    facts.calico_autodetection.reset();
    return;
  }
  for (auto& o : overlays)
    facts.source_overlays.push_back(std::move(o));
}

// The bundle that installs Cilium: paths.cilium, or cilium-native's.
std::map<std::string, ManifestBundle>::const_iterator cilium_bundle(
    const std::map<std::string, ManifestBundle>& bundles) {
  const auto it = bundles.find("cilium");
  return it != bundles.end() ? it : bundles.find("cilium-native");
}

}  // namespace

void add_bundle_facts(const std::map<std::string, ManifestBundle>& bundles,
                      migrate::CniStackFacts& facts) {
  facts.multus = bundles.contains("multus");
  const auto it = cilium_bundle(bundles);
  if (it == bundles.end())
    return;
  for (const auto& o : it->second.objects()) {
    if (o.kind != "ConfigMap" || o.name != "cilium-config")
      continue;
    const auto* data = wire::obj(o.body, "data");
    const std::string owner = "ConfigMap " + o.namespace_ + "/" + o.name;
    std::istringstream cidrs(std::string(wire::str(data, "cluster-pool-ipv4-cidr")));
    for (std::string cidr; cidrs >> cidr;)
      facts.cilium_cidrs.push_back({owner + " cluster-pool-ipv4-cidr", cidr});
    if (std::string(wire::str(data, "routing-mode")) != "native") {
      auto protocol = std::string(wire::str(data, "tunnel-protocol"));
      if (protocol.empty())
        protocol = "vxlan";  // Cilium's default
      facts.cilium_overlay = migrate::Overlay{
          owner + " tunnel-protocol/tunnel-port", protocol,
          port_of(std::string(wire::str(data, "tunnel-port")), default_port(protocol))};
    }
    facts.cilium_cni_exclusive = std::string(wire::str(data, "cni-exclusive")) != "false";
  }
}

std::string applied_cilium_image(const std::map<std::string, ManifestBundle>& bundles,
                                 const config::Config& config) {
  const auto it = cilium_bundle(bundles);
  const auto* ds =
      it == bundles.end() ? nullptr : it->second.find("DaemonSet", "kube-system", "cilium");
  const auto* tmpl = ds != nullptr ? wire::obj(wire::spec(ds->body), "template") : nullptr;
  if (const auto* containers = wire::arr(wire::obj(tmpl, "spec"), "containers")) {
    for (const auto& c : *containers) {
      if (c.is_object() && wire::str(&c.get_object(), "name") == "cilium-agent")
        return std::string(wire::str(&c.get_object(), "image"));
    }
  }
  return config.images.cilium;
}

void add_node_facts(const boost::json::object& node, migrate::CniStackFacts& facts) {
  const auto name = name_of(node);
  if (auto cidr = std::string(wire::str(wire::obj(node, "spec"), "podCIDR")); !cidr.empty())
    facts.source_cidrs.push_back({"node " + name + " spec.podCIDR", cidr});
  const auto* status = wire::obj(node, "status");
  const auto kernel = std::string(
      wire::str(status != nullptr ? wire::obj(*status, "nodeInfo") : nullptr, "kernelVersion"));
  if (!kernel.empty())
    facts.kernels.push_back({name, kernel});
}

void add_source_daemon_set_facts(const boost::json::object& daemon_set,
                                 migrate::CniStackFacts& facts) {
  const auto* spec = wire::obj(daemon_set, "spec");
  const auto* tmpl = spec != nullptr ? wire::obj(*spec, "template") : nullptr;
  const auto* pod = tmpl != nullptr ? wire::obj(*tmpl, "spec") : nullptr;
  const auto* containers = pod != nullptr ? pod->if_contains("containers") : nullptr;
  if (containers == nullptr || !containers->is_array())
    return;
  const auto ns = std::string(wire::str(wire::obj(daemon_set, "metadata"), "namespace"));
  for (const auto& c : containers->get_array()) {
    if (!c.is_object() || std::string(wire::str(&c.get_object(), "name")) != "calico-node")
      continue;
    facts.calico_daemon_set = "DaemonSet " + ns + "/" + name_of(daemon_set);
    facts.calico_autodetection = "";  // unset: first-found
    const auto* env = c.get_object().if_contains("env");
    static const boost::json::array no_env;
    add_calico_env_facts(env != nullptr && env->is_array() ? env->get_array() : no_env, facts);
  }
}

void add_ip_pool_facts(const boost::json::object& pool, migrate::CniStackFacts& facts) {
  const auto owner = "Calico IPPool " + name_of(pool);
  const auto* spec = wire::obj(pool, "spec");
  if (auto cidr = std::string(wire::str(spec, "cidr")); !cidr.empty())
    facts.source_cidrs.push_back({owner + " spec.cidr", cidr});
  const auto vxlan = std::string(wire::str(spec, "vxlanMode"));
  if (!vxlan.empty() && vxlan != "Never")
    facts.source_overlays.push_back({owner + " spec.vxlanMode", "vxlan", 0, true});
  const auto ipip = std::string(wire::str(spec, "ipipMode"));
  if (!ipip.empty() && ipip != "Never")
    facts.source_overlays.push_back({owner + " spec.ipipMode", "ipip", 0});
}

void add_felix_configuration_facts(const boost::json::object& felix_configuration,
                                   migrate::CniStackFacts& facts) {
  // `default` is the cluster-wide one; node.<name> ones are per node and
  // rare, left to the operator.
  if (name_of(felix_configuration) != "default")
    return;
  const auto* spec = wire::spec(felix_configuration);
  const auto* port = spec != nullptr ? spec->if_contains("vxlanPort") : nullptr;
  if (port != nullptr && port->is_int64() && port->get_int64() > 0)
    facts.felix_vxlan_port_config = migrate::PortSetting{
        "FelixConfiguration default spec.vxlanPort", static_cast<unsigned>(port->get_int64())};
}

void add_flannel_net_conf_facts(const std::string& owner, const std::string& net_conf_json,
                                migrate::CniStackFacts& facts) {
  boost::system::error_code ec;
  auto conf = boost::json::parse(net_conf_json, ec);
  if (ec || !conf.is_object())
    return;
  const auto& o = conf.get_object();
  if (auto network = std::string(wire::str(&o, "Network")); !network.empty())
    facts.source_cidrs.push_back({owner + " net-conf.json Network", network});
  const auto* backend = wire::obj(o, "Backend");
  auto type = std::string(wire::str(backend, "Type"));
  if (type.empty())
    type = "vxlan";                                           // flannel's default backend
  unsigned port = type == "udp" ? 8285 : default_port(type);  // host-gw: none
  if (const auto* p = backend != nullptr ? backend->if_contains("Port") : nullptr;
      p != nullptr && p->is_int64()) {
    port = static_cast<unsigned>(p->get_int64());
  }
  facts.source_overlays.push_back({owner + " net-conf.json Backend", type, port});
}

void add_service_cidr_facts(const boost::json::object& service_cidr,
                            migrate::CniStackFacts& facts) {
  const auto* spec = wire::obj(service_cidr, "spec");
  const auto* cidrs = spec != nullptr ? spec->if_contains("cidrs") : nullptr;
  if (cidrs == nullptr || !cidrs->is_array())
    return;
  for (const auto& c : cidrs->get_array()) {
    if (c.is_string())
      facts.service_cidrs.push_back(
          {"ServiceCIDR " + name_of(service_cidr), std::string(c.get_string())});
  }
}

}  // namespace cnimig::agent
