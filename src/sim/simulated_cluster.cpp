#include "cnimig/sim/simulated_cluster.hpp"

namespace cnimig::sim {

SimulatedCluster::~SimulatedCluster() = default;

}  // namespace cnimig::sim
