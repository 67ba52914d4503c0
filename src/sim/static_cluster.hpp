#pragma once
// The cluster the simulator serves when no cluster model is plugged in: N Ready
// nodes, the default and kube-system namespaces, K Running pods per node and one
// knet-stress pod per node; pods being deleted gracefully disappear after a
// short (time-scaled) delay, as a kubelet would finish them. The full model
// (controllers, scheduler, network) replaces it through Simulator's ClusterFactory.

#include <memory>

#include <boost/asio/io_context.hpp>

#include "cnimig/sim/simulated_cluster.hpp"

#include "object_store.hpp"

namespace cnimig::sim {

class StaticCluster : public SimulatedCluster {
 public:
  StaticCluster(boost::asio::io_context& io, ObjectStore& store, double time_scale);
  ~StaticCluster() override;

  void bootstrap(std::size_t nodes, std::size_t pods_per_node) override;
  ExecResult exec(const boost::json::object& pod, const std::vector<std::string>& command) override;
  boost::json::object report() const override;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace cnimig::sim
