#pragma once
// The pods of one namespace, by node, kept in step with the ClusterCache's
// snapshot: the same pods, in the same order within a node as its pod list.
// The connectivity check waits for every knet-stress pod to be Ready and
// re-selects its targets on every watch change; reading them here costs the
// namespace's pods (two a node) rather than every pod of the cluster (thirty
// a node and more: at 5,000 nodes the walk was most of the agent's CPU).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cnimig/migrate/cluster_snapshot.hpp"

namespace cnimig::agent {

class NamespacePods {
 public:
  explicit NamespacePods(std::string ns) : ns_(std::move(ns)) {}

  // What the snapshot's nodes hold of namespace `ns` (the reference the
  // cache's index must equal).
  static NamespacePods of(const migrate::ClusterSnapshot& snapshot, std::string ns);

  const std::string& ns() const noexcept { return ns_; }
  // Node name -> its pods of the namespace; nodes without any are absent.
  const std::map<std::string, std::vector<migrate::PodState>>& by_node() const noexcept {
    return by_node_;
  }

  // The cache's edits of a node's pod list, mirrored; pods of other
  // namespaces are ignored. A new pod goes last, a known one is replaced
  // in place, a removed one keeps the others' order.
  void upsert(const std::string& node, const migrate::PodState& pod);
  void remove(const std::string& node, std::string_view ns, std::string_view name);
  // The node went, and its pods with it.
  void remove_node(const std::string& node) { by_node_.erase(node); }

  friend bool operator==(const NamespacePods&, const NamespacePods&) = default;

 private:
  std::string ns_;
  std::map<std::string, std::vector<migrate::PodState>> by_node_;
};

}  // namespace cnimig::agent
