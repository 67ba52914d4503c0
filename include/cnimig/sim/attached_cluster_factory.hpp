#pragma once
// `cnimig-sim --attach KUBECONFIG`: the simulator's cluster half run against
// a real API server (src/sim/README.md, "Attached to a real control plane").
// It registers the nodes, keeps their Leases and status fresh, runs the pods
// bound to them with the kubelet model, serves exec on each node's kubelet
// port, and judges connectivity with the network model, all from a mirror of
// the real server's objects. The Simulator's own API serves that mirror and
// /sim/v1/report.
#include <filesystem>
#include <functional>
#include <string>

#include <boost/json/object.hpp>

#include "cnimig/sim/cluster_options.hpp"
#include "cnimig/sim/simulator.hpp"

namespace cnimig::sim {

struct AttachOptions {
  std::filesystem::path kubeconfig;  // the real API server (admin credentials)
  // kubelet.crt, kubelet.key (the kubelet's serving certificate) and ca.crt
  // (the CA client certificates are verified against), as
  // test/realcluster/launch-control-plane.sh writes them. Empty: the
  // kubeconfig's directory.
  std::filesystem::path kubelet_tls_dir;
  // Node i's InternalIP is prefix + (i+1): one loopback address per kubelet.
  std::string node_address_prefix = "127.0.1.";
  // Told (on the simulator's thread) `{"event":"sim.attached",...}` once the
  // nodes are registered, the mirror has synced and the bootstrap objects
  // exist, or `{"event":"sim.attach-failed","error":...}`.
  std::function<void(const boost::json::object&)> on_event;
};

ClusterFactory attached_cluster_factory(ClusterOptions base, AttachOptions attach);

}  // namespace cnimig::sim
