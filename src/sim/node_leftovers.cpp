#include "node_leftovers.hpp"

namespace cnimig::sim {

void NodeLeftovers::settle(State& s) {
  if (s.cleanup_ready > 0 && s.source_pods == 0)
    s.ran = false;
}

void NodeLeftovers::source_pod(const std::string& node, int present_delta, bool ready) {
  auto& s = nodes_[node];
  s.source_pods += present_delta;
  if (ready && s.source_pods > 0)
    s.ran = true;
  settle(s);
}

void NodeLeftovers::cleanup_pod(const std::string& node, int ready_delta) {
  auto& s = nodes_[node];
  s.cleanup_ready += ready_delta;
  settle(s);
}

void NodeLeftovers::node_removed(const std::string& node) {
  nodes_.erase(node);
}

bool NodeLeftovers::has_leftovers(const std::string& node) const {
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second.ran && it->second.source_pods == 0;
}

std::size_t NodeLeftovers::nodes_with_leftovers() const {
  std::size_t n = 0;
  for (const auto& [name, s] : nodes_)
    if (s.ran && s.source_pods == 0)
      ++n;
  return n;
}

std::vector<std::string> NodeLeftovers::leftovers(
    const std::string& node, std::string_view source_config,
    const std::vector<std::string>& interfaces) const {
  if (!has_leftovers(node))
    return {};
  std::vector<std::string> out{"/etc/cni/net.d/" + std::string(source_config),
                               "/etc/cni/net.d/00-multus.conflist", "/etc/cni/net.d/multus.d",
                               "iptables chains"};
  for (const auto& i : interfaces)
    out.push_back("interface " + i);
  return out;
}

}  // namespace cnimig::sim
