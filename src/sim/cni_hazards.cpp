#include "cni_hazards.hpp"

#include <boost/json/parse.hpp>

#include "json_fields.hpp"
#include "multus_delegates.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {

constexpr unsigned vxlan_linux_port = 8472;   // Linux's VXLAN port: flannel's and Cilium's
constexpr unsigned geneve_port = 6081;        // IANA's Geneve port: Cilium's
constexpr unsigned calico_vxlan_port = 4789;  // IANA's VXLAN port: Calico's vxlanPort
constexpr unsigned flannel_udp_port = 8285;   // flannel's udp backend

unsigned port_or(std::string_view text, unsigned fallback) {
  unsigned v = 0;
  if (text.empty())
    return fallback;
  for (char c : text) {
    if (c < '0' || c > '9')
      return fallback;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

bool is_key(const json::object& o, std::string_view ns_, std::string_view name_) {
  return ns(o) == ns_ && name(o) == name_;
}

}  // namespace

std::optional<Cidr> parse_cidr(std::string_view text) {
  boost::system::error_code ec;
  auto n = boost::asio::ip::make_network_v4(std::string(text), ec);
  if (ec)
    return std::nullopt;
  return n.canonical();
}

bool cidrs_overlap(const Cidr& a, const Cidr& b) {
  return a == b || a.is_subnet_of(b) || b.is_subnet_of(a);
}

Cidr block_of(const Cidr& pool, unsigned prefix, std::size_t index) {
  if (prefix < pool.prefix_length())
    prefix = pool.prefix_length();
  if (prefix > 30)
    prefix = 30;
  const auto count = std::uint64_t{1} << (prefix - pool.prefix_length());
  const auto size = std::uint64_t{1} << (32 - prefix);
  const auto base = pool.network().to_uint() + (index % count) * size;
  return Cidr(boost::asio::ip::address_v4(static_cast<std::uint32_t>(base)), prefix);
}

std::string address_in(const Cidr& block, std::uint32_t host) {
  const auto size = std::uint32_t{1} << (32 - block.prefix_length());
  return boost::asio::ip::address_v4(block.network().to_uint() + host % size).to_string();
}

unsigned CiliumSettings::udp_port() const {
  if (!tunnel)
    return 0;
  if (tunnel_port != 0)
    return tunnel_port;
  return tunnel_protocol == "geneve" ? geneve_port : vxlan_linux_port;
}

CiliumSettings cilium_settings(const json::object& config_map) {
  CiliumSettings s;
  const auto* data = obj(config_map, "data");
  if (const auto v = str(data, "cni-exclusive"); !v.empty())
    s.cni_exclusive = v == "true";
  s.tunnel = str(data, "routing-mode") != "native";
  if (const auto v = str(data, "tunnel-protocol"); !v.empty())
    s.tunnel_protocol = std::string(v);
  s.tunnel_port = port_or(str(data, "tunnel-port"), 0);
  const auto pools = str(data, "cluster-pool-ipv4-cidr");
  std::size_t pos = 0;
  while (pos < pools.size()) {
    auto end = pools.find_first_of(" ,", pos);
    if (end == std::string_view::npos)
      end = pools.size();
    if (end > pos)
      if (auto c = parse_cidr(pools.substr(pos, end - pos)))
        s.pools.push_back(*c);
    pos = end + 1;
  }
  s.mask_size = port_or(str(data, "cluster-pool-ipv4-mask-size"), 24);
  return s;
}

NetConf parse_net_conf(std::string_view text) {
  NetConf c;
  boost::system::error_code ec;
  const auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return c;
  const auto& o = v.get_object();
  if (const auto n = str(&o, "Network"); !n.empty())
    c.network = parse_cidr(n);
  const auto* backend = obj(o, "Backend");
  auto type = std::string(str(backend, "Type"));
  if (type.empty())
    type = "vxlan";
  if (type == "vxlan")
    c.udp_port = static_cast<unsigned>(integer(backend, "Port", vxlan_linux_port));
  else if (type == "udp")
    c.udp_port = static_cast<unsigned>(integer(backend, "Port", flannel_udp_port));
  return c;
}

CalicoNode calico_node_of(const json::object* pod_spec) {
  CalicoNode c;
  const auto* containers = arr(pod_spec, "containers");
  if (!containers)
    return c;
  for (const auto& ct : *containers) {
    if (!ct.is_object() || str(&ct.get_object(), "name") != "calico-node")
      continue;
    c.present = true;
    std::string backend, method, vxlan;
    unsigned port = calico_vxlan_port;
    if (const auto* env = arr(&ct.get_object(), "env"))
      for (const auto& e : *env) {
        if (!e.is_object())
          continue;
        const auto var = str(&e.get_object(), "name");
        const auto value = str(&e.get_object(), "value");
        if (var == "CALICO_NETWORKING_BACKEND")
          backend = value;  // a valueFrom (calico-config's calico_backend: bird) routes
        else if (var == "IP_AUTODETECTION_METHOD")
          method = value;
        else if (var == "CALICO_IPV4POOL_CIDR")
          c.pool = parse_cidr(value);
        else if (var == "CALICO_IPV4POOL_VXLAN")
          vxlan = value;
        else if (var == "FELIX_VXLANPORT")
          port = port_or(value, calico_vxlan_port);
      }
    c.routes = backend != "none";
    c.first_found = method.empty() || method == "first-found";
    if (c.routes && (vxlan == "Always" || vxlan == "CrossSubnet"))
      c.udp_port = port;
  }
  return c;
}

bool CniStack::configmap_changed(const json::object* before, const json::object* after) {
  const auto& any = after ? *after : *before;
  if (is_key(any, "kube-system", "cilium-config")) {
    if (after)
      cilium_ = cilium_settings(*after);
    else
      cilium_.reset();
    return true;
  }
  if (is_key(any, "kube-system", "multus-daemon-config")) {
    multus_problem_ = after ? cnimig::sim::multus_delegate_problem(source_cni_, *after) : "";
    if (!multus_problem_.empty())
      ++multus_mismatch_writes_;
    return true;
  }
  const bool flannel = is_key(any, "kube-flannel", "kube-flannel-cfg") ||
                       is_key(any, "kube-system", "kube-flannel-cfg");
  const bool canal = is_key(any, "kube-system", "canal-config");
  if (!flannel && !canal)
    return false;
  std::optional<NetConf> conf;
  if (after) {
    if (const auto text = str(obj(*after, "data"), "net-conf.json"); !text.empty())
      conf = parse_net_conf(text);
  }
  (flannel ? flannel_ : canal_) = conf;
  return true;
}

bool CniStack::source_daemonset_changed(const json::object* after) {
  const auto* tmpl_spec = after ? obj(obj(spec(*after), "template"), "spec") : nullptr;
  calico_ = calico_node_of(tmpl_spec);
  flannel_container_ = false;
  if (const auto* containers = arr(tmpl_spec, "containers"))
    for (const auto& c : *containers)
      if (c.is_object() && str(&c.get_object(), "name") == "kube-flannel")
        flannel_container_ = true;
  return true;
}

std::vector<std::string> CniStack::source_interfaces() const {
  std::vector<std::string> out;
  if (calico_.present && calico_.routes)
    out.push_back(calico_.udp_port != 0 ? "vxlan.calico" : "tunl0");
  if (flannel_container_) {
    out.push_back("flannel.1");
    out.push_back("cni0");
  }
  return out;
}

unsigned CniStack::clash_port() const {
  if (!cilium_)
    return 0;
  const auto port = cilium_->udp_port();
  if (port == 0)
    return 0;
  for (const auto& conf : {flannel_, canal_})
    if (conf && conf->udp_port == port)
      return port;
  return calico_.udp_port == port ? port : 0;
}

std::vector<Cidr> CniStack::source_pools() const {
  std::vector<Cidr> out;
  for (const auto& conf : {flannel_, canal_})
    if (conf && conf->network)
      out.push_back(*conf->network);
  if (calico_.pool)
    out.push_back(*calico_.pool);
  return out;
}

const std::vector<Cidr>& CniStack::cilium_pools() const {
  static const std::vector<Cidr> none;
  return cilium_ ? cilium_->pools : none;
}

std::optional<Cidr> CniStack::cilium_block(std::size_t node_index) const {
  if (!cilium_ || cilium_->pools.empty())
    return std::nullopt;
  return block_of(cilium_->pools.front(), cilium_->mask_size, node_index);
}

bool CniStack::in_overlap(const Cidr& block) const {
  bool in_source = false, in_cilium = false;
  for (const auto& p : source_pools())
    in_source = in_source || cidrs_overlap(block, p);
  for (const auto& p : cilium_pools())
    in_cilium = in_cilium || cidrs_overlap(block, p);
  return in_source && in_cilium;
}

json::object CniStack::report() const {
  bool overlap = false;
  for (const auto& s : source_pools())
    for (const auto& c : cilium_pools())
      overlap = overlap || cidrs_overlap(s, c);
  return json::object{
      {"cilium_configured", cilium_configured()},
      {"cni_exclusive", cni_exclusive()},
      {"tunnel_clash_port", clash_port()},
      {"multus_delegate_mismatch", !multus_problem_.empty()},
      {"multus_delegate_mismatch_writes", multus_mismatch_writes_},
      {"pod_cidr_overlap", overlap},
      {"calico_first_found", calico_.present && calico_.routes && calico_.first_found}};
}

NodeHazards node_hazards(const CniStack& stack, RoleMask active, bool first_found_calico,
                         const std::optional<Cidr>& source_block,
                         const std::optional<Cidr>& cilium_block) {
  NodeHazards h;
  const bool source = active & role_bit(AgentRole::source);
  const bool cilium = active & (role_bit(AgentRole::cilium) | role_bit(AgentRole::cilium_migrated));
  if (source && cilium && stack.clash_port() != 0)
    h.cross_broken |= network_bit(Network::source) | network_bit(Network::cilium);
  if (cilium && first_found_calico)
    h.cross_broken |= network_bit(Network::source);
  if (source_block && stack.in_overlap(*source_block))
    h.overlap |= network_bit(Network::source);
  if (cilium_block && stack.in_overlap(*cilium_block))
    h.overlap |= network_bit(Network::cilium);
  return h;
}

}  // namespace cnimig::sim
