#include "cnimig/agent/action_outcome.hpp"

#include <algorithm>

namespace cnimig::agent {
namespace {

bool shows_pod(const migrate::ClusterSnapshot& cluster, const std::string& node,
               const migrate::PodUid& uid) {
  const auto n = cluster.nodes.find(node);
  if (n == cluster.nodes.end())
    return false;
  const auto& pods = n->second.pods;
  return std::any_of(pods.begin(), pods.end(),
                     [&](const migrate::PodState& p) { return p.uid == uid; });
}

}  // namespace

void fold(migrate::RunRecord& record, const ActionOutcome& outcome,
          const migrate::ClusterSnapshot& cluster) {
  if (const auto* b = std::get_if<EvictionBlocked>(&outcome)) {
    record.blocked_evictions.push_back(b->eviction);
  } else if (const auto* s = std::get_if<EvictionSettled>(&outcome)) {
    std::erase_if(record.blocked_evictions, [&](const migrate::BlockedEviction& b) {
      return b.ns == s->ns && b.name == s->name;
    });
  } else if (const auto* r = std::get_if<PodRemoved>(&outcome)) {
    if (!r->uid.empty() && shows_pod(cluster, r->node, r->uid))
      record.removed_pods.emplace(r->uid, r->node);
  } else if (const auto* c = std::get_if<CheckFinished>(&outcome)) {
    migrate::note_check(record, c->result);
  }
}

void forget_gone_pods(migrate::RunRecord& record, const migrate::ClusterSnapshot& cluster) {
  std::erase_if(record.removed_pods,
                [&](const auto& entry) { return !shows_pod(cluster, entry.second, entry.first); });
}

}  // namespace cnimig::agent
