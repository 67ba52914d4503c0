#pragma once
// Pure status arithmetic of the workload controllers, unit-tested on its own.

#include <cstdint>

#include <boost/json/object.hpp>

namespace cnimig::sim {

struct PdbCounts {
  std::int64_t expected_pods = 0;    // from the owning controllers' scale
  std::int64_t current_healthy = 0;  // Ready, not terminating
};

// PodDisruptionBudget status (policy/v1) as the disruption controller computes
// it: desiredHealthy from minAvailable (int or percent of expected, rounded up)
// or maxUnavailable (expected - int or percent rounded up); disruptionsAllowed =
// max(0, currentHealthy - desiredHealthy); `blocked` (fault) forces 0.
boost::json::object pdb_status(const boost::json::object& pdb, const PdbCounts& counts,
                               bool blocked);

}  // namespace cnimig::sim
