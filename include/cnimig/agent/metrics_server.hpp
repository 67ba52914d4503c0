#pragma once
// `--metrics-addr HOST:PORT`: a plain-HTTP endpoint serving GET /metrics in
// the Prometheus text format from a MetricsRegistry. Connections are served
// one at a time, one request each (`Connection: close`), each with a 10 s
// deadline: a scraper every few seconds is the only expected client, and a
// slow one cannot hold the agent's event loop.

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/events/metrics_registry.hpp"

namespace cnimig::agent {

class MetricsServer {
 public:
  // Binds and listens now, so a bad address fails before the run starts and
  // port 0 is resolved to the port the kernel picked. `address` is
  // HOST:PORT, HOST an IP address (IPv6 in brackets) or a name to resolve.
  static Result<std::unique_ptr<MetricsServer>> listen(boost::asio::any_io_executor executor,
                                                       std::string_view address,
                                                       const events::MetricsRegistry& registry);

  // The bound address as HOST:PORT, e.g. "127.0.0.1:43117".
  std::string address() const;

  // Serves until cancelled (or the acceptor fails).
  boost::asio::awaitable<void> serve();

 private:
  MetricsServer(boost::asio::ip::tcp::acceptor acceptor, const events::MetricsRegistry& registry);
  boost::asio::awaitable<void> respond(boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  const events::MetricsRegistry& registry_;
};

// Splits "host:port" / "[v6]:port"; nullopt-like error when malformed.
Result<std::pair<std::string, unsigned short>> split_host_port(std::string_view address);

}  // namespace cnimig::agent
