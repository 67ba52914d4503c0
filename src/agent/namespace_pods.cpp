#include "cnimig/agent/namespace_pods.hpp"

#include <algorithm>

namespace cnimig::agent {

NamespacePods NamespacePods::of(const migrate::ClusterSnapshot& snapshot, std::string ns) {
  NamespacePods out(std::move(ns));
  for (const auto& [name, node] : snapshot.nodes) {
    for (const auto& pod : node.pods)
      out.upsert(name, pod);
  }
  return out;
}

void NamespacePods::upsert(const std::string& node, const migrate::PodState& pod) {
  if (pod.ns != ns_)
    return;
  auto& list = by_node_[node];
  auto it = std::find_if(list.begin(), list.end(),
                         [&](const migrate::PodState& p) { return p.name == pod.name; });
  if (it == list.end()) {
    list.push_back(pod);
  } else {
    *it = pod;
  }
}

void NamespacePods::remove(const std::string& node, std::string_view ns, std::string_view name) {
  if (ns != ns_)
    return;
  auto it = by_node_.find(node);
  if (it == by_node_.end())
    return;
  std::erase_if(it->second, [&](const migrate::PodState& p) { return p.name == name; });
  if (it->second.empty())
    by_node_.erase(it);
}

}  // namespace cnimig::agent
