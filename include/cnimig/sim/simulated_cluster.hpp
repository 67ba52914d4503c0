#pragma once
// The controller half of the simulator as the API half sees it: something that
// populates the store, answers exec from its network model and reports its
// counters. The cluster model implements it; Simulator owns one.

#include <cstddef>
#include <map>
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
  // The cluster half of a new fault spec (FaultSpec::extra: never-ready-node,
  // blocking-pdb), replacing the previous one at runtime. Default: no cluster faults.
  virtual void set_faults(const std::map<std::string, std::string>& extra) { (void)extra; }
  // The simulator is stopping (on its thread): end background work that
  // would otherwise outlive it. Default: nothing runs in the background.
  virtual void stop() {}
};

}  // namespace cnimig::sim
