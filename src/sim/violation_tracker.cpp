#include "violation_tracker.hpp"

#include "cnimig/common/rfc3339.hpp"

namespace cnimig::sim {

namespace json = boost::json;

namespace {

std::chrono::system_clock::time_point to_system(ViolationTracker::Clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             t - ViolationTracker::Clock::now());
}

bool mutual(NetworkMask up_a, NodeHazards h_a, NetworkMask if_a, Network ip_a, NetworkMask up_b,
            NodeHazards h_b, NetworkMask if_b, Network ip_b, bool same_node) {
  return reaches(if_a, up_a, h_a, ip_b, up_b, h_b, same_node) &&
         reaches(if_b, up_b, h_b, ip_a, up_a, h_a, same_node);
}

// A class's node part and pod part.
struct ClassParts {
  NetworkMask up;
  NodeHazards hazards;
  NetworkMask interfaces;
  Network ip;
};
constexpr ClassParts parts_of(std::size_t c) {
  return {static_cast<NetworkMask>((c >> 7) & 3),
          NodeHazards{static_cast<NetworkMask>((c >> 5) & 3),
                      static_cast<NetworkMask>((c >> 3) & 3), ((c >> 9) & 1) != 0},
          static_cast<NetworkMask>((c >> 1) & 3), static_cast<Network>(c & 1)};
}
bool class_pair_violates(std::size_t i, std::size_t j, bool same_node) {
  const auto a = parts_of(i), b = parts_of(j);
  return !mutual(a.up, a.hazards, a.interfaces, a.ip, b.up, b.hazards, b.interfaces, b.ip,
                 same_node);
}

double seconds(ViolationTracker::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

ViolationTracker::ViolationTracker()
    : violates_([]() -> const std::vector<bool>& {
        static_assert(class_of(3, NodeHazards{3, 3, true}, 3, Network::cilium) == classes - 1);
        static const std::vector<bool> table = [] {
          std::vector<bool> t(classes * classes);
          for (std::size_t i = 0; i < classes; ++i)
            for (std::size_t j = 0; j < classes; ++j)
              t[i * classes + j] = class_pair_violates(i, j, false);
          return t;
        }();
        return table;
      }()) {}

void ViolationTracker::refresh_correction(NodeState& n) {
  std::int64_t c = 0;
  if (!n.cordoned) {
    const auto base = node_bits(n.up, n.hazards) << 3;
    for (std::size_t k1 = 0; k1 < n.pods.size(); ++k1) {
      if (n.pods[k1] == 0)
        continue;
      for (std::size_t k2 = k1; k2 < n.pods.size(); ++k2) {
        if (n.pods[k2] == 0)
          continue;
        const bool cross = violates(base | k1, base | k2);
        const bool same = class_pair_violates(base | k1, base | k2, true);
        if (same == cross)
          continue;
        const auto pairs = k1 == k2 ? n.pods[k1] * (n.pods[k1] - 1) / 2 : n.pods[k1] * n.pods[k2];
        c += same ? pairs : -pairs;
      }
    }
  }
  pending_ += c - n.same_node_correction;
  n.same_node_correction = c;
}

std::size_t ViolationTracker::node_index(std::string_view node) {
  auto [it, inserted] = node_ids_.try_emplace(std::string(node), nodes_.size());
  if (inserted)
    nodes_.emplace_back();
  return it->second;
}

void ViolationTracker::apply_node(const NodeState& node, int sign) {
  if (node.cordoned)
    return;
  for (std::size_t k = 0; k < node.pods.size(); ++k)
    if (node.pods[k])
      adjust((node_bits(node.up, node.hazards) << 3) | k, sign * node.pods[k]);
}

void ViolationTracker::add_pod(std::size_t node, NetworkMask interfaces, Network ip,
                               Clock::time_point now) {
  auto& n = nodes_[node];
  const auto k = (static_cast<std::size_t>(interfaces & 3) << 1) | static_cast<std::size_t>(ip);
  ++n.pods[k];
  if (!n.cordoned)
    adjust(class_of(n.up, n.hazards, interfaces, ip), +1);
  refresh_correction(n);
  recount(now);
}

void ViolationTracker::remove_pod(std::size_t node, NetworkMask interfaces, Network ip,
                                  Clock::time_point now) {
  auto& n = nodes_[node];
  const auto k = (static_cast<std::size_t>(interfaces & 3) << 1) | static_cast<std::size_t>(ip);
  if (n.pods[k] == 0)
    return;
  --n.pods[k];
  if (!n.cordoned)
    adjust(class_of(n.up, n.hazards, interfaces, ip), -1);
  refresh_correction(n);
  recount(now);
}

void ViolationTracker::set_node_networks(std::size_t node, NetworkMask up, Clock::time_point now) {
  auto& n = nodes_[node];
  if (n.up == up)
    return;
  apply_node(n, -1);
  n.up = up;
  apply_node(n, +1);
  refresh_correction(n);
  recount(now);
}

void ViolationTracker::set_node_hazards(std::size_t node, NodeHazards hazards,
                                        Clock::time_point now) {
  auto& n = nodes_[node];
  if (n.hazards == hazards)
    return;
  apply_node(n, -1);
  n.hazards = hazards;
  apply_node(n, +1);
  refresh_correction(n);
  recount(now);
}

void ViolationTracker::set_node_cordoned(std::size_t node, bool cordoned, Clock::time_point now) {
  auto& n = nodes_[node];
  if (n.cordoned == cordoned)
    return;
  const auto name_of = [&] {
    for (const auto& [name, id] : node_ids_)
      if (id == node)
        return name;
    return std::string();
  };
  if (cordoned) {
    apply_node(n, -1);
    n.cordoned = true;
    n.cordoned_since = now;
    ++cordoned_;
    max_cordoned_ = std::max(max_cordoned_, cordoned_);
  } else {
    const double held = seconds(now - n.cordoned_since);
    if (held > longest_cordon_seconds_) {
      longest_cordon_seconds_ = held;
      longest_cordon_node_ = name_of();
    }
    n.cordoned = false;
    --cordoned_;
    apply_node(n, +1);
  }
  refresh_correction(n);
  recount(now);
}

void ViolationTracker::remove_node(std::size_t node, Clock::time_point now) {
  set_node_cordoned(node, false, now);
  apply_node(nodes_[node], -1);
  pending_ -= nodes_[node].same_node_correction;
  nodes_[node] = NodeState{};
  recount(now);
}

std::uint64_t ViolationTracker::counted_pods() const {
  std::int64_t total = 0;
  for (auto c : counts_)
    total += c;
  return static_cast<std::uint64_t>(total);
}

void ViolationTracker::adjust(std::size_t i, std::int64_t delta) {
  // Pairs the changed pods form with every other class, plus pairs among themselves.
  std::int64_t others = 0;
  for (std::size_t j = 0; j < classes; ++j)
    if (j != i && violates(i, j))
      others += counts_[j];
  auto pairs = [](std::int64_t n) { return n * (n - 1) / 2; };
  std::int64_t change = delta * others;
  if (violates(i, i))
    change += pairs(counts_[i] + delta) - pairs(counts_[i]);
  counts_[i] += delta;
  pending_ += change;
}

void ViolationTracker::recount(Clock::time_point now) {
  const auto v = static_cast<std::uint64_t>(static_cast<std::int64_t>(current_) + pending_);
  pending_ = 0;
  if (any_change_) {
    const double dt = seconds(now - last_change_);
    if (current_ > 0) {
      violation_seconds_ += dt;
      pair_seconds_ += dt * static_cast<double>(current_);
    }
  }
  any_change_ = true;
  last_change_ = now;
  if (v > 0) {
    const auto sys = to_system(now);
    if (!ever_)
      first_at_ = sys;
    if (current_ == 0) {
      ++episodes_;
      violating_since_ = now;
    }
    ever_ = true;
    last_at_ = sys;
  } else if (current_ > 0) {
    last_at_ = to_system(now);  // the last instant a violation existed
  }
  current_ = v;
  max_ = std::max(max_, v);
}

json::object ViolationTracker::report(Clock::time_point now) const {
  double vs = violation_seconds_, ps = pair_seconds_;
  if (any_change_ && current_ > 0) {
    vs += seconds(now - last_change_);
    ps += seconds(now - last_change_) * static_cast<double>(current_);
  }
  json::object v{
      {"current", current_},
      {"max_concurrent", max_},
      {"episodes", episodes_},
      {"violation_seconds", vs},
      {"pair_seconds", ps},
      {"first", ever_ ? json::value(format_rfc3339(first_at_)) : json::value(nullptr)},
      {"last", ever_ ? json::value(format_rfc3339(current_ > 0 ? to_system(now) : last_at_))
                     : json::value(nullptr)},
      {"counted_pods", counted_pods()}};
  double longest = longest_cordon_seconds_;
  std::string longest_node = longest_cordon_node_;
  for (const auto& [name, id] : node_ids_)
    if (nodes_[id].cordoned && seconds(now - nodes_[id].cordoned_since) > longest) {
      longest = seconds(now - nodes_[id].cordoned_since);
      longest_node = name;
    }
  json::object c{{"current", cordoned_},
                 {"max_at_once", max_cordoned_},
                 {"longest_seconds", longest},
                 {"longest_node", longest_node}};
  return json::object{{"violations", std::move(v)}, {"cordoned", std::move(c)}};
}

std::uint64_t ViolationTracker::count_pairs(const std::vector<PodSample>& pods,
                                            const std::vector<NetworkMask>& node_up,
                                            const std::vector<bool>& node_cordoned) {
  return count_pairs(pods, node_up, std::vector<NodeHazards>(node_up.size()), node_cordoned);
}

std::uint64_t ViolationTracker::count_pairs(const std::vector<PodSample>& pods,
                                            const std::vector<NetworkMask>& node_up,
                                            const std::vector<NodeHazards>& node_hazards,
                                            const std::vector<bool>& node_cordoned) {
  std::uint64_t v = 0;
  for (std::size_t a = 0; a < pods.size(); ++a) {
    if (node_cordoned[pods[a].node])
      continue;
    for (std::size_t b = a + 1; b < pods.size(); ++b) {
      if (node_cordoned[pods[b].node])
        continue;
      const auto& pa = pods[a];
      const auto& pb = pods[b];
      if (!mutual(node_up[pa.node], node_hazards[pa.node], pa.interfaces, pa.ip, node_up[pb.node],
                  node_hazards[pb.node], pb.interfaces, pb.ip, pa.node == pb.node))
        ++v;
    }
  }
  return v;
}

}  // namespace cnimig::sim
