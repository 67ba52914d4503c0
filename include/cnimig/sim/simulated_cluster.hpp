#pragma once
// The controller half of the simulator as the API half sees it: something that
// populates the store, answers exec from its network model and reports its
// counters. The cluster model implements it; Simulator owns one.

#include <cstddef>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/sim/exec_result.hpp"

namespace cnimig::sim {

struct SimulatedCluster {
  virtual ~SimulatedCluster();
  virtual void bootstrap(std::size_t nodes, std::size_t pods_per_node) = 0;
  virtual ExecResult exec(const boost::json::object& pod,
                          const std::vector<std::string>& command) = 0;
  virtual boost::json::object report() const = 0;
};

}  // namespace cnimig::sim
