#pragma once
// The simulator's HTTPS front: Beast over one io_context, TLS with a serving
// certificate from the simulator's CA, bearer-token auth (401 otherwise),
// HTTP/1.1 keep-alive, chunked watch streams with bookmarks, and pod exec over
// WebSocket (v5/v4.channel.k8s.io). Kubernetes semantics live in ApiHandler.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/net/certificate_authority.hpp"
#include "cnimig/sim/exec_result.hpp"

#include "api_handler.hpp"

namespace cnimig::sim {

using ExecHook = std::function<ExecResult(const boost::json::object& pod,
                                          const std::vector<std::string>& command)>;

// The exec answer without a cluster model: `/knet-stress status` succeeds,
// anything else is "command not found" (127).
ExecResult default_exec(const boost::json::object& pod, const std::vector<std::string>& command);

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral
  std::string token;       // the only accepted bearer token
  std::chrono::milliseconds bookmark_interval{std::chrono::seconds(5)};
};

class ApiServer {
 public:
  ApiServer(boost::asio::io_context& io, ApiHandler& handler, const net::IssuedCertificate& cert,
            ApiServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and listens now (so the port is known and connections queue), then
  // accepts on the io_context. Call from the io_context's thread or before it runs.
  Result<void> start();
  // Closes the listener and every connection. Call on the io_context's thread.
  void stop();
  std::uint16_t port() const;

  void set_exec_hook(ExecHook hook);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cnimig::sim
