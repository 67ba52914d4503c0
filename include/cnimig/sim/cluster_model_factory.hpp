#pragma once
// The Simulator's cluster half: the full ClusterModel (controllers, kubelet,
// network model) with the simulator's time scale and cluster faults. This is
// what cnimig-sim and `cnimig-agent --simulate` run.

#include "cnimig/sim/simulator.hpp"

namespace cnimig::sim {

ClusterFactory cluster_model_factory();

}  // namespace cnimig::sim
