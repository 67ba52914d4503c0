#pragma once
// The oracle's counter. A violation is an unordered pair of Ready,
// non-hostNetwork pods, both on nodes that are not cordoned, that cannot reach
// each other (either direction fails). Reachability depends only on (networks up
// on the pod's node, the node's hazards, the pod's interface set, its IP's
// network) and whether both pods share a node, so pods are counted per class
// (4 x 16 x 2 x 4 x 2 = 1024 classes: a node's networks, hazards and host
// routing, a pod's interfaces and IP network), the count is a sum over class
// pairs by the
// cross-node rule, and each node adds a correction for its own pairs (the
// same-node rule, which no hazard touches): O(1) per change at any cluster
// size, no pod pairs enumerated.

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "cni_config_selection.hpp"

namespace cnimig::sim {

class ViolationTracker {
 public:
  using Clock = std::chrono::steady_clock;

  ViolationTracker();

  // Stable index for a node name (created on first use).
  std::size_t node_index(std::string_view node);

  // A pod that counts (Ready, not hostNetwork, with interfaces) appears or goes.
  void add_pod(std::size_t node, NetworkMask interfaces, Network ip, Clock::time_point now);
  void remove_pod(std::size_t node, NetworkMask interfaces, Network ip, Clock::time_point now);
  void set_node_networks(std::size_t node, NetworkMask up, Clock::time_point now);
  void set_node_hazards(std::size_t node, NodeHazards hazards, Clock::time_point now);
  void set_node_cordoned(std::size_t node, bool cordoned, Clock::time_point now);
  void remove_node(std::size_t node, Clock::time_point now);  // node object deleted

  NetworkMask node_networks(std::size_t node) const { return nodes_[node].up; }
  NodeHazards node_hazards(std::size_t node) const { return nodes_[node].hazards; }
  bool node_cordoned(std::size_t node) const { return nodes_[node].cordoned; }

  std::uint64_t violations() const { return current_; }
  std::uint64_t max_violations() const { return max_; }
  std::size_t max_cordoned_at_once() const { return max_cordoned_; }
  std::uint64_t counted_pods() const;

  // violations: current, max, first/last (RFC 3339), seconds with any violation,
  // pair-seconds; cordon: current, max at once, longest seconds.
  boost::json::object report(Clock::time_point now) const;

  // Brute-force reference (for tests): violations among explicit pods.
  struct PodSample {
    std::size_t node;
    NetworkMask interfaces;
    Network ip;
  };
  static std::uint64_t count_pairs(const std::vector<PodSample>& pods,
                                   const std::vector<NetworkMask>& node_up,
                                   const std::vector<bool>& node_cordoned);
  static std::uint64_t count_pairs(const std::vector<PodSample>& pods,
                                   const std::vector<NetworkMask>& node_up,
                                   const std::vector<NodeHazards>& node_hazards,
                                   const std::vector<bool>& node_cordoned);

 private:
  // host_routing(2) x up(4) x cross_broken(4) x overlap(4) x interfaces(4) x ip(2)
  static constexpr std::size_t classes = 1024;
  static constexpr std::size_t node_bits(NetworkMask up, NodeHazards h) {
    return (static_cast<std::size_t>(h.host_routing) << 6) |
           (static_cast<std::size_t>(up & 3) << 4) |
           (static_cast<std::size_t>(h.cross_broken & 3) << 2) |
           static_cast<std::size_t>(h.overlap & 3);
  }
  static constexpr std::size_t class_of(NetworkMask up, NetworkMask ifaces, Network ip) {
    return class_of(up, NodeHazards{}, ifaces, ip);
  }
  static constexpr std::size_t class_of(NetworkMask up, NodeHazards h, NetworkMask ifaces,
                                        Network ip) {
    return (node_bits(up, h) << 3) | (static_cast<std::size_t>(ifaces & 3) << 1) |
           static_cast<std::size_t>(ip);
  }
  struct NodeState {
    std::array<std::int64_t, 8> pods{};  // by (interfaces << 1 | ip)
    NetworkMask up = 0;
    NodeHazards hazards;
    bool cordoned = false;
    Clock::time_point cordoned_since{};
    std::int64_t same_node_correction = 0;  // in current_: same-node minus cross-node rule
  };
  void apply_node(const NodeState& node, int sign);
  // Re-derives the node's same-node correction after a change on it.
  void refresh_correction(NodeState& node);
  // Moves `delta` pods into class i, updating the violation count in O(classes).
  void adjust(std::size_t i, std::int64_t delta);
  void recount(Clock::time_point now);
  std::int64_t pending_ = 0;  // violation change not yet folded into current_

  std::vector<NodeState> nodes_;
  std::unordered_map<std::string, std::size_t> node_ids_;
  std::array<std::int64_t, classes> counts_{};
  // classes x classes, by the cross-node rule: one table for the process
  // (a million pairs, built once).
  const std::vector<bool>& violates_;
  bool violates(std::size_t i, std::size_t j) const { return violates_[i * classes + j]; }

  std::uint64_t current_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t episodes_ = 0;
  Clock::time_point last_change_{};
  bool any_change_ = false;
  double violation_seconds_ = 0;
  double pair_seconds_ = 0;
  std::chrono::system_clock::time_point first_at_{}, last_at_{};
  bool ever_ = false;
  Clock::time_point violating_since_{};

  std::size_t cordoned_ = 0;
  std::size_t max_cordoned_ = 0;
  double longest_cordon_seconds_ = 0;
  std::string longest_cordon_node_;
};

}  // namespace cnimig::sim
