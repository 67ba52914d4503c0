#pragma once
// Plugs the full cluster model into Simulator (its ClusterFactory seam):
// `Simulator sim(options, cluster_model_factory());`. --time-scale and the
// cluster faults (--faults never-ready-node=NAME,blocking-pdb=NS/NAME) are
// taken from SimulatorOptions; everything else from `base`.

#include "cnimig/sim/cluster_options.hpp"
#include "cnimig/sim/simulator.hpp"

namespace cnimig::sim {

ClusterOptions cluster_options_from(const SimulatorOptions& options, ClusterOptions base = {});
ClusterFactory cluster_model_factory(ClusterOptions base = {});

}  // namespace cnimig::sim
