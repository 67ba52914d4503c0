#pragma once
// Every node's kubelet at once. A bound pod gets its sandbox after the start
// delay (hostNetwork pods: the node's address; others: a CNI ADD through the
// network model, which fails while the node has no usable CNI config, leaving
// the pod ContainerCreating until the node's network changes), then turns Ready
// after the ready delay (CNI agents: the agent delay; never on the
// never-ready-node fault). A pod with deletionTimestamp is removed after the
// termination delay. A Node created without a Ready condition (`kubectl create
// -f node.yaml`, a cluster autoscaler's new machine) is registered by its
// kubelet after the start delay: capacity, addresses and Ready=True. All
// waits are one timer queue on the io_context.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "controller_context.hpp"

namespace cnimig::sim {

class KubeletModel {
 public:
  KubeletModel(boost::asio::io_context& io, ControllerContext& ctx);
  ~KubeletModel();
  void observe(const Change& change);
  // The node's CNI agents changed: retry the sandboxes waiting there.
  void network_changed(const std::string& node);
  // The never-ready-node fault left `node`: its Running, not Ready pods turn
  // Ready after the usual delay.
  void readiness_restored(const std::string& node);
  // calico-node pods on `node` whose readiness the network now decides
  // (first-found picked cilium_host): Ready ones turn NotReady, blocked ones
  // that are free again turn Ready after the agent delay
  // (kubelet_cni_readiness.cpp).
  void recheck_agent_readiness(const std::string& node);
  std::size_t queued() const { return queue_.size(); }
  std::size_t waiting_for_network() const;

 private:
  enum class Step { start, ready, remove, register_node };
  struct Task {
    Step step;
    std::string key;  // ns/name (nodes: name)
    std::string uid;
  };
  using Clock = std::chrono::steady_clock;
  void schedule(Clock::duration delay, Step step, std::string key, std::string uid);
  void arm();
  void run_due();
  void start(const Task& task);
  void make_ready(const Task& task);
  void remove(const Task& task);
  void register_node(const Task& task);
  ObjectPtr current(const Task& task) const;
  bool never_ready(std::string_view node) const;
  // Writes the pod's Ready and ContainersReady conditions and its containers' ready.
  void set_readiness(const boost::json::object& pod, bool ready);

  boost::asio::io_context& io_;
  ControllerContext& ctx_;
  boost::asio::steady_timer timer_;
  std::multimap<Clock::time_point, Task> queue_;
  Clock::time_point armed_for_ = Clock::time_point::max();
  std::set<std::string> started_;   // uids with a start scheduled or done
  std::set<std::string> removing_;  // uids with a removal scheduled
  std::unordered_map<std::string, std::set<std::pair<std::string, std::string>>>
      waiting_;  // node -> (key, uid)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace cnimig::sim
