#pragma once
// The cluster half of cnimig-sim: scheduler, DaemonSet/ReplicaSet/Deployment/
// StatefulSet controllers, kubelet model, disruption controller, the NoExecute
// taint manager and the network model (the oracle), all driven by the
// store's change stream on the simulator's one io_context. Controllers never
// write from inside a store notification: a change marks work, and one pass
// of every controller runs from a posted handler.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "cnimig/sim/cluster_options.hpp"
#include "cnimig/sim/simulated_cluster.hpp"

#include "network_model.hpp"
#include "object_store.hpp"

namespace cnimig::sim {

class ClusterModel final : public SimulatedCluster {
 public:
  ClusterModel(boost::asio::io_context& io, ObjectStore& store, ClusterOptions options);
  ~ClusterModel() override;
  ClusterModel(const ClusterModel&) = delete;
  ClusterModel& operator=(const ClusterModel&) = delete;

  // N Ready nodes, the source CNI DaemonSet, kube-proxy, CoreDNS (+PDB) and
  // application Deployments/StatefulSet with PDBs in `apps`, `pods_per_node`
  // application pods per node. Objects are created; the controllers make the
  // pods as the io_context runs.
  void bootstrap(std::size_t nodes, std::size_t pods_per_node) override;
  // `/knet-stress status` answers from the network model; `ls /etc/cni/net.d`
  // lists the node's CNI configs; `true`, `hostname`, `cat /etc/hostname`.
  ExecResult exec(const boost::json::object& pod, const std::vector<std::string>& command) override;
  boost::json::object report() const override;
  // Runtime cluster faults: a node no longer never-ready gets its Running pods
  // Ready after the usual delay; a PDB no longer blocking (or newly blocking)
  // has its status recomputed, so evictions follow at once.
  void set_faults(const std::map<std::string, std::string>& extra) override;

  const NetworkModel& network() const;
  const ClusterOptions& options() const;
  // No controller pass queued (kubelet timers may still be pending).
  bool controllers_idle() const;
  std::size_t kubelet_queue() const;
  std::size_t pods_waiting_for_network() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cnimig::sim
