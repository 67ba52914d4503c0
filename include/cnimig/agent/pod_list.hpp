#pragma once
// A node's pod list in the watch cache's snapshot grows a few entries at a
// time. std::vector's push_back doubles the capacity, so a node's list of 34
// pods (30 application pods, the source CNI, kube-proxy, two knet-stress
// pods) would hold room for 64: at 5,000 nodes that is 26 MiB of empty
// PodStates, a quarter of the agent's memory (test/bench/README.md (e)). The
// lists are short, so moving one when it grows costs little.

#include <cstddef>
#include <vector>

#include "cnimig/migrate/cluster_snapshot.hpp"

namespace cnimig::agent {

// At most this many unused entries after an append.
inline constexpr std::size_t kPodListSlack = 4;

// Appends `pod`, growing `list` by kPodListSlack entries when it is full.
void append_pod(std::vector<migrate::PodState>& list, migrate::PodState pod);

}  // namespace cnimig::agent
