#pragma once
// The attached simulator's nodes as their kubelets keep them on a real API
// server: each node is created with its status (InternalIP one loopback
// address per node, the kubelet port, `declaredFeatures:
// [ExtendWebSocketsToKubelet]` so the API server forwards a client's
// WebSocket exec unchanged), its Lease in kube-node-lease is renewed every
// 10 s and its Ready condition's heartbeat every 60 s, so the node
// lifecycle controller (grace period 50 s) never marks it NotReady.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "cnimig/kube/client.hpp"
#include "cnimig/sim/cluster_options.hpp"

namespace cnimig::sim {

struct RegisteredNode {
  std::string name;
  std::string address;  // InternalIP, where its kubelet listens
};

class NodeRegistration {
 public:
  NodeRegistration(kube::Client& client, const ClusterOptions& options);

  // The nodes this simulator runs: node i is options.node_name_prefix + i at
  // address_prefix + (i+1).
  static std::vector<RegisteredNode> plan(const ClusterOptions& options, std::size_t count,
                                          const std::string& address_prefix);
  // The Node object node `index` registers with (exposed for tests).
  static boost::json::object node_object(const ClusterOptions& options, std::size_t index,
                                         const RegisteredNode& node, std::uint16_t kubelet_port);

  // Creates (or takes over) each node, posts its status and creates its Lease.
  boost::asio::awaitable<Result<void>> register_nodes(std::vector<RegisteredNode> nodes,
                                                      std::uint16_t kubelet_port);
  // Renews the Leases and heartbeats until stop().
  boost::asio::awaitable<void> run();
  void stop();

 private:
  boost::asio::awaitable<Result<void>> register_node(std::size_t index, std::uint16_t kubelet_port);
  boost::asio::awaitable<void> renew_leases();
  boost::asio::awaitable<void> heartbeat();

  kube::Client& client_;
  const ClusterOptions& options_;
  std::vector<RegisteredNode> nodes_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace cnimig::sim
