#pragma once
// The cluster half of `cnimig-sim --attach`: a kubelet-only ClusterModel
// (kubelet model, network model, violation tracker; the real control plane
// schedules and runs the controllers) over a mirror of the real API server,
// with the nodes it registered, the kubelet write-back and the kubelet port.
// Attaching runs as a coroutine on the simulator's io_context: register the
// nodes and start their kubelet ports, mirror nodes, pods, DaemonSets and
// ConfigMaps, then create the bootstrap objects.

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "cnimig/kube/client.hpp"
#include "cnimig/sim/attached_cluster_factory.hpp"
#include "cnimig/sim/simulated_cluster.hpp"

#include "../cluster_model.hpp"
#include "kubelet_server.hpp"
#include "kubelet_write_back.hpp"
#include "node_registration.hpp"
#include "object_mirror.hpp"

namespace cnimig::sim {

class AttachedCluster final : public SimulatedCluster {
 public:
  AttachedCluster(boost::asio::io_context& io, ObjectStore& store, ClusterOptions options,
                  AttachOptions attach);
  ~AttachedCluster() override;

  // Starts attaching (on the io_context); AttachOptions::on_event tells the outcome.
  void bootstrap(std::size_t nodes, std::size_t pods_per_node) override;
  ExecResult exec(const boost::json::object& pod, const std::vector<std::string>& command) override;
  // The cluster model's report plus `attached`: the server, the write-back's
  // and the kubelet port's counters.
  boost::json::object report() const override;
  void set_faults(const std::map<std::string, std::string>& extra) override;
  void stop() override;

 private:
  boost::asio::awaitable<Result<void>> attach(std::size_t nodes, std::size_t pods_per_node);
  boost::asio::awaitable<Result<void>> start_mirrors();
  void spawn(boost::asio::awaitable<void> task);
  void emit(boost::json::object event) const;

  boost::asio::io_context& io_;
  ObjectStore& store_;
  AttachOptions attach_;
  ClusterModel model_;
  std::unique_ptr<kube::Client> client_;
  Error client_error_;
  std::unique_ptr<ObjectMirror> mirror_;
  std::unique_ptr<KubeletWriteBack> write_back_;
  std::unique_ptr<NodeRegistration> registration_;
  KubeletServer kubelet_;
  std::size_t mirrors_ = 0;
  bool attached_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cnimig::sim
