#pragma once
// Each node's kubelet port as the API server reaches it: TLS with the
// kubelet's serving certificate, client certificates required and verified
// against the cluster CA (the API server presents kubelet-client.crt), one
// listener per node address on one port. It serves exec only: the API
// server forwards a client's WebSocket exec unchanged to nodes that declare
// ExtendWebSocketsToKubelet (`GET /exec/NS/POD/CONTAINER?command=...
// &output=1&error=1`, `Upgrade: websocket`), answered by the simulator's own
// exec channel. SPDY and container logs are not served (404).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/sim/exec_result.hpp"

#include "../object_store.hpp"

namespace cnimig::sim {

class KubeletServer {
 public:
  using ExecHook =
      std::function<ExecResult(const boost::json::object& pod, const std::vector<std::string>&)>;
  // `tls_dir` holds kubelet.crt, kubelet.key and ca.crt.
  KubeletServer(boost::asio::io_context& io, const ObjectStore& store, ExecHook exec);
  ~KubeletServer();
  KubeletServer(const KubeletServer&) = delete;
  KubeletServer& operator=(const KubeletServer&) = delete;

  Result<void> load_tls(const std::filesystem::path& tls_dir);
  // Listens on every address, on one port: `port` or, when 0, one the first
  // address got from the kernel. Returns the port.
  Result<std::uint16_t> start(const std::vector<std::string>& addresses, std::uint16_t port);
  void stop();
  std::size_t execs() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cnimig::sim
