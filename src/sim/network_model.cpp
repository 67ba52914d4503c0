#include "network_model.hpp"

#include <algorithm>

#include "cnimig/common/split.hpp"

#include "cni_hazards.hpp"
#include "json_fields.hpp"
#include "node_leftovers.hpp"
#include "scheduling_predicates.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

NetworkModel::NetworkModel(const ClusterOptions& options)
    : options_(options),
      agents_(options.agents.empty() ? default_agent_roles(options) : options.agents),
      stack_(std::make_unique<CniStack>(options.source_cni)),
      leftovers_(std::make_unique<NodeLeftovers>()) {}

NetworkModel::~NetworkModel() = default;

NetworkModel::NodeState& NetworkModel::node_state(std::string_view node) {
  auto it = nodes_.find(std::string(node));
  if (it == nodes_.end()) {
    it = nodes_.emplace(std::string(node), NodeState{}).first;
    it->second.index = tracker_.node_index(node);
    for (auto& used : it->second.ips_used)
      used.assign(256, false);
  }
  return it->second;
}

const NetworkModel::NodeState* NetworkModel::find_node(std::string_view node) const {
  auto it = nodes_.find(std::string(node));
  return it == nodes_.end() ? nullptr : &it->second;
}

std::string NetworkModel::node_ip(std::string_view node) {
  // A pod's hostIP is its node's InternalIP, as the real kubelet reports it
  // (a node registered by a real kubelet or `kubectl create` has its own).
  const auto& n = node_state(node);
  if (n.node)
    if (const auto* addresses = arr(status(*n.node), "addresses"))
      for (const auto& a : *addresses)
        if (a.is_object() && str(&a.get_object(), "type") == "InternalIP" &&
            !str(&a.get_object(), "address").empty())
          return std::string(str(&a.get_object(), "address"));
  const auto i = n.index;
  return "172." + std::to_string(16 + i / 65536 % 16) + "." + std::to_string(i / 256 % 256) + "." +
         std::to_string(i % 256 == 255 ? 254 : i % 256 + 1);
}

std::string NetworkModel::pod_cidr(std::string_view node) {
  return node_pod_cidr(options_, node_state(node).index);
}

RoleMask NetworkModel::expected_roles(const json::object& node) const {
  RoleMask m = 0;
  for (const auto& [key, ds] : agent_daemonsets_)
    if (daemon_should_continue(ds.pod_spec, node))
      m |= role_bit(ds.role);
  return m;
}

void NetworkModel::refresh_node(NodeState& n, Clock::time_point now) {
  RoleMask active = 0;
  for (std::size_t r = 0; r < agent_role_count; ++r) {
    const auto bit = role_bit(static_cast<AgentRole>(r));
    if (n.ready[r] > 0 || ((n.active & bit) && (n.expected & bit)))
      active |= bit;
  }
  const auto renamed = renamed_configs(n, active);
  const bool changed = active != n.active || renamed != n.renamed;
  n.active = active;
  n.renamed = renamed;
  // Hazards only take reachability away: through their intersection, no
  // intermediate state counts more violations than the old or the new one.
  // Host routing only adds reachability: through their union, likewise.
  const auto was = tracker_.node_hazards(n.index), next = hazards_of(n);
  tracker_.set_node_hazards(
      n.index,
      NodeHazards{static_cast<NetworkMask>(was.cross_broken & next.cross_broken),
                  static_cast<NetworkMask>(was.overlap & next.overlap),
                  was.host_routing || next.host_routing},
      now);
  tracker_.set_node_networks(n.index, networks_of(active), now);
  tracker_.set_node_hazards(n.index, next, now);
  if (changed && network_changed_ && n.node)
    network_changed_(std::string(name(*n.node)));
}

void NetworkModel::node_changed(const json::object* before, const json::object* after,
                                Clock::time_point now) {
  if (!after) {
    if (before) {
      auto it = nodes_.find(std::string(name(*before)));
      if (it != nodes_.end()) {
        tracker_.remove_node(it->second.index, now);
        leftovers_->node_removed(it->first);
        it->second.node.reset();
        it->second.expected = 0;
        it->second.active = 0;
      }
    }
    return;
  }
  auto& n = node_state(name(*after));
  n.node = std::make_shared<const json::object>(*after);
  n.expected = expected_roles(*after);
  tracker_.set_node_cordoned(n.index, node_unschedulable(*after), now);
  refresh_node(n, now);
}

void NetworkModel::daemonset_changed(const json::object* before, const json::object* after,
                                     Clock::time_point now) {
  const auto& any = after ? *after : *before;
  const auto* role = find_agent_role(agents_, ns(any), name(any));
  if (!role)
    return;
  const auto k = key(any);
  // Status writes do not change where the agent should run.
  if (before && after &&
      json::value(spec(*before) ? *spec(*before) : json::object{}) ==
          json::value(spec(*after) ? *spec(*after) : json::object{}))
    return;
  if (after) {
    const auto* tmpl_spec = spec(*after) ? obj(obj(spec(*after), "template"), "spec") : nullptr;
    agent_daemonsets_[k] = AgentDaemonSet{*role, tmpl_spec ? *tmpl_spec : json::object{}};
  } else {
    agent_daemonsets_.erase(k);
  }
  if (*role == AgentRole::source)
    stack_->source_daemonset_changed(after);
  for (auto& [node_name, n] : nodes_) {
    if (!n.node)
      continue;
    n.expected = expected_roles(*n.node);
    refresh_node(n, now);
  }
}

std::optional<AgentRole> NetworkModel::agent_role_of(const json::object& pod) const {
  const auto* ref = controller_ref(pod);
  if (!ref || str(ref, "kind") != "DaemonSet")
    return std::nullopt;
  if (const auto* role = find_agent_role(agents_, ns(pod), str(ref, "name")))
    return *role;
  return std::nullopt;
}

std::optional<PodInterfaces> NetworkModel::interfaces_of(const json::object& pod) {
  const auto text = annotation(pod, interfaces_annotation);
  if (text.empty())
    return std::nullopt;
  PodInterfaces pi;
  bool first = true;
  for (const auto field : split(text, ',')) {
    const auto net = parse_network(field);
    if (!net)
      return std::nullopt;
    if (first)
      pi.primary = *net;
    first = false;
    pi.networks |= network_bit(*net);
  }
  return pi;
}

std::string NetworkModel::interfaces_text(const PodInterfaces& interfaces) {
  std::string s(to_string(interfaces.primary));
  const auto other = interfaces.primary == Network::source ? Network::cilium : Network::source;
  if (interfaces.networks & network_bit(other)) {
    s += ',';
    s += to_string(other);
  }
  return s;
}

void NetworkModel::pod_changed(const json::object* before, const json::object* after,
                               Clock::time_point now) {
  const auto& any = after ? *after : *before;
  const auto k = key(any);
  auto it = pods_.find(k);
  const bool was_ready = it != pods_.end() && it->second.ready;
  if (it != pods_.end())
    unindex_knet_peer(k, it->second);
  // Withdraw what the old state contributed.
  if (it != pods_.end()) {
    auto& old = it->second;
    auto& n = node_state(old.node);
    withdraw_pod_hazards(old, n);
    if (old.counted)
      tracker_.remove_pod(n.index, old.interfaces->networks, old.interfaces->primary, now);
    if (old.role && old.ready) {
      --n.ready[static_cast<std::size_t>(*old.role)];
      if (!after)
        refresh_node(n, now);
    }
    if (!after) {
      if (old.interfaces && !old.host_network) {
        release_ip(old.node, old.interfaces->primary, old.ip);
        if (!old.secondary_ip.empty())
          release_ip(old.node,
                     old.interfaces->primary == Network::source ? Network::cilium : Network::source,
                     old.secondary_ip);
      }
      pods_.erase(it);
      return;
    }
  }
  if (!after)
    return;
  PodState s;
  s.node = std::string(node_name(*after));
  s.ns = std::string(ns(*after));
  s.role = agent_role_of(*after);
  s.ready = pod_ready(*after);
  s.host_network = host_network(*after);
  s.interfaces = s.host_network ? std::nullopt : interfaces_of(*after);
  s.ip = std::string(str(status(*after), "podIP"));
  s.secondary_ip = std::string(annotation(*after, secondary_ip_annotation));
  if (const auto* ref = controller_ref(*after); ref && str(ref, "kind") == "DaemonSet")
    s.knet_owner = std::string(str(ref, "name"));
  if (!s.node.empty()) {
    auto& n = node_state(s.node);
    take_cilium_config(s, it != pods_.end() ? &it->second : nullptr, *after, n);
    // A deleted node's pods (the pod garbage collector marks them Failed
    // before removing them) are no longer counted: their node is gone.
    s.counted = s.ready && !s.host_network && s.interfaces.has_value() && n.node != nullptr;
    add_pod_hazards(s, *after, n, was_ready);
    if (s.role && s.ready)
      ++n.ready[static_cast<std::size_t>(*s.role)];
    if (s.role)
      refresh_node(n, now);
    else if (it != pods_.end() && it->second.role)
      refresh_node(n, now);
    if (s.counted)
      tracker_.add_pod(n.index, s.interfaces->networks, s.interfaces->primary, now);
  }
  index_knet_peer(k, s);
  pods_[k] = std::move(s);
}

RoleMask NetworkModel::active_roles(std::string_view node) const {
  const auto* n = find_node(node);
  return n ? n->active : 0;
}

NetworkMask NetworkModel::networks_up(std::string_view node) const {
  return networks_of(active_roles(node));
}

std::vector<std::string> NetworkModel::config_files(std::string_view node) const {
  std::vector<std::string> files;
  const auto* n = find_node(node);
  if (!n)
    return files;
  const auto written = role_files(*n);
  for (std::size_t r = 0; r < agent_role_count; ++r)
    if ((n->active & role_bit(static_cast<AgentRole>(r))) && !written[r].empty()) {
      auto f = written[r];
      if (n->renamed & role_bit(static_cast<AgentRole>(r)))
        f += ".cilium_bak";
      if (std::find(files.begin(), files.end(), f) == files.end())
        files.push_back(std::move(f));
    }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {
std::string ip_in(Network net, std::size_t node_index, std::uint32_t host) {
  const auto base = net == Network::source ? 64u : 128u;
  return "10." + std::to_string(base + node_index / 256 % 64) + "." +
         std::to_string(node_index % 256) + "." + std::to_string(host);
}
}  // namespace

std::optional<SandboxNetwork> NetworkModel::create_sandbox(std::string_view node,
                                                           std::string* failure) {
  auto& n = node_state(node);
  auto result = cnimig::sim::create_sandbox(n.active & ~n.renamed, networks_of(n.active),
                                            role_files(n), stack_->multus_delegate_problem());
  if (!result.interfaces) {
    if (failure)
      *failure = result.message;
    return std::nullopt;
  }
  auto ip = [&](Network net, std::uint32_t host) {
    if (auto a = address_on(n, net, host))
      return *a;
    return ip_in(net, n.index, host);
  };
  auto allocate = [&](Network net) {
    auto& used = n.ips_used[static_cast<std::size_t>(net)];
    auto& hint = n.ip_hint[static_cast<std::size_t>(net)];
    for (std::uint32_t i = 0; i < 253; ++i) {
      const auto host = 2 + (hint + i) % 253;  // .2 - .254 (.1 is the node's gateway)
      if (!used[host]) {
        used[host] = true;
        hint = host - 1;
        return ip(net, host);
      }
    }
    return ip(net, 2 + hint++ % 253);  // exhausted: reuse (more than 253 pods on a node)
  };
  SandboxNetwork sn;
  sn.interfaces = *result.interfaces;
  sn.pod_ip = allocate(sn.interfaces.primary);
  const auto other = sn.interfaces.primary == Network::source ? Network::cilium : Network::source;
  if (sn.interfaces.networks & network_bit(other))
    sn.secondary_ip = allocate(other);
  return sn;
}

void NetworkModel::release_ip(std::string_view node, Network net, std::string_view ip) {
  auto* n = nodes_.count(std::string(node)) ? &nodes_.at(std::string(node)) : nullptr;
  const auto dot = ip.rfind('.');
  if (!n || dot == std::string_view::npos)
    return;
  const auto host = std::atoi(std::string(ip.substr(dot + 1)).c_str());
  if (host >= 0 && host < 256)
    n->ips_used[static_cast<std::size_t>(net)][static_cast<std::size_t>(host)] = false;
}

bool NetworkModel::pod_reaches(std::string_view from_key, std::string_view to_key) const {
  auto a = pods_.find(std::string(from_key));
  auto b = pods_.find(std::string(to_key));
  if (a == pods_.end() || b == pods_.end())
    return false;
  const auto& pa = a->second;
  const auto& pb = b->second;
  // hostNetwork pods use the node network, always reachable in the model.
  if (pb.host_network)
    return true;
  if (!pb.interfaces)
    return false;
  const NetworkMask a_ifaces = pa.host_network
                                   ? network_bit(Network::source) | network_bit(Network::cilium)
                                   : (pa.interfaces ? pa.interfaces->networks : NetworkMask{0});
  return reaches(a_ifaces, networks_up(pa.node), hazards(pa.node), pb.interfaces->primary,
                 networks_up(pb.node), hazards(pb.node), pa.node == pb.node);
}

json::object NetworkModel::report(Clock::time_point now) const {
  auto r = tracker_.report(now);
  std::size_t by_net[network_count] = {0, 0};
  std::size_t multi = 0;
  for (const auto& [k, p] : pods_)
    if (p.interfaces) {
      ++by_net[static_cast<std::size_t>(p.interfaces->primary)];
      if (p.interfaces->networks == (network_bit(Network::source) | network_bit(Network::cilium)))
        ++multi;
    }
  r["pod_networks"] = json::object{
      {"source_primary", by_net[0]}, {"cilium_primary", by_net[1]}, {"both_interfaces", multi}};
  add_hazard_report(r);
  return r;
}

}  // namespace cnimig::sim
