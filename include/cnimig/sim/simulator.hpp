#pragma once
// cnimig-sim in one object: the io_context (owned, or the embedder's), the
// object store, the API handler and HTTPS server, the CA and bearer token, and
// the cluster model (SimulatedCluster) that populates the store and answers exec.
// The binary (src/sim_main.cpp), the agent's --simulate and the e2e tests all
// use it the same way: construct, start(), read url()/kubeconfig(), stop().

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/sim/fault_spec.hpp"
#include "cnimig/sim/simulated_cluster.hpp"

namespace cnimig::net {
class CertificateAuthority;
}  // namespace cnimig::net

namespace cnimig::sim {

// The simulator's internals (src/sim): a cluster factory receives them.
class ApiHandler;
class ApiServer;
class ObjectStore;

struct SimulatorOptions {
  std::size_t nodes = 3;
  std::size_t pods_per_node = 0;
  std::string listen = "127.0.0.1:0";  // host:port; port 0 = ephemeral
  FaultSpec faults;
  // The Kubernetes release GET /version reports; it decides how a WebSocket
  // exec is authorized (Authorizer::websocket_exec_verbs).
  int server_major = 1;
  int server_minor = 32;
  double time_scale = 1.0;
  std::chrono::milliseconds bookmark_interval{std::chrono::seconds(5)};
  std::size_t watch_history = 200000;  // events a watch can resume across
};

// "MAJOR.MINOR" (e.g. "1.34", as --server-version takes it) into its parts;
// false when malformed.
bool parse_version(std::string_view text, int& major, int& minor);

using ClusterFactory = std::function<std::unique_ptr<SimulatedCluster>(
    boost::asio::io_context& io, ObjectStore& store, ApiHandler& api,
    const SimulatorOptions& options)>;

class Simulator {
 public:
  // Owns its io_context and runs it on its own thread between start() and stop().
  explicit Simulator(SimulatorOptions options, ClusterFactory factory = {});
  // Runs on the embedder's io_context: call start() and stop() on its thread
  // (or start() before it runs). After stop(), let the io_context run until the
  // closed connections have finished (or stop it) before destroying the Simulator.
  Simulator(boost::asio::io_context& io, SimulatorOptions options, ClusterFactory factory = {});
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Bootstraps the cluster, listens, and (owned io_context) starts the thread.
  // Returns once requests are accepted.
  Result<void> start();
  // Idempotent; from any thread for an owned io_context.
  void stop();

  std::string url() const;  // https://127.0.0.1:PORT
  const std::string& token() const { return token_; }
  const std::string& ca_pem() const;
  // A kubeconfig (context "cnimig-sim") with the CA data and bearer token.
  std::string kubeconfig() const;
  Result<void> write_kubeconfig(const std::string& path) const;

  // Before start(): told (on the simulator's thread) when stop-at-write
  // triggers; see ApiHandler::set_fault_listener.
  void set_fault_listener(std::function<void(const boost::json::object&)> listener) {
    fault_listener_ = std::move(listener);
  }

  // From another thread, with an owned io_context: blocks until every pod of
  // the cluster is Ready (at least one pod exists), or `timeout`. A cluster
  // to migrate has been running for a while; a plan made while its own CNI
  // is still starting only says that it waits for it.
  Result<void> wait_until_settled(std::chrono::steady_clock::duration timeout);

  // GET /sim/v1/report's document. On the simulator's thread, or once stop()
  // has returned.
  boost::json::object report() const;

  boost::asio::io_context& io() { return *io_; }
  SimulatedCluster& cluster() { return *cluster_; }

 private:
  std::unique_ptr<boost::asio::io_context> owned_io_;
  boost::asio::io_context* io_;
  SimulatorOptions options_;
  ClusterFactory factory_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<net::CertificateAuthority> ca_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<SimulatedCluster> cluster_;
  std::string token_;
  std::function<void(const boost::json::object&)> fault_listener_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace cnimig::sim
