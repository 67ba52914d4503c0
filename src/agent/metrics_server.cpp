#include "cnimig/agent/metrics_server.hpp"

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

Result<std::pair<std::string, unsigned short>> split_host_port(std::string_view address) {
  const auto bad = [&](const std::string& why) {
    return make_error(Errc::invalid_argument,
                      "expected HOST:PORT, got '" + std::string(address) + "': " + why);
  };
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos)
    return bad("no port");
  std::string_view host = address.substr(0, colon);
  const std::string_view port_text = address.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3)
      return bad("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address needs brackets");
  }
  if (host.empty())
    return bad("no host");
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  return std::pair{std::string(host), static_cast<unsigned short>(port)};
}

MetricsServer::MetricsServer(tcp::acceptor acceptor, const events::MetricsRegistry& registry)
    : acceptor_(std::move(acceptor)), registry_(registry) {}

Result<std::unique_ptr<MetricsServer>> MetricsServer::listen(
    asio::any_io_executor executor, std::string_view address,
    const events::MetricsRegistry& registry) {
  auto parts = split_host_port(address);
  if (!parts)
    return parts.error();
  boost::system::error_code ec;
  tcp::resolver resolver(executor);
  const auto endpoints =
      resolver.resolve(parts->first, std::to_string(parts->second),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return make_error(Errc::invalid_argument,
                      "--metrics-addr: cannot resolve " + parts->first + ": " + ec.message());
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp::acceptor acceptor(executor);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec)
    return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(acceptor), registry));
  return make_error(Errc::invalid_argument, "--metrics-addr: cannot listen on " +
                                                std::string(address) + ": " + ec.message());
}

std::string MetricsServer::address() const {
  const auto e = acceptor_.local_endpoint();
  const auto host = e.address().to_string();
  return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
}

asio::awaitable<void> MetricsServer::serve() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open())
      co_return;
    if (ec) {
      // Out of descriptors and the like: report, and keep the run going.
      spdlog::warn("metrics endpoint: accept failed: {}", ec.message());
      continue;
    }
    co_await respond(std::move(socket));
  }
}

asio::awaitable<void> MetricsServer::respond(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request<http::empty_body> request;
  stream.expires_after(std::chrono::seconds(10));
  auto [read_ec, n] = co_await http::async_read(stream, buffer, request, use_nothrow);
  (void)n;
  if (read_ec)
    co_return;
  http::response<http::string_body> response;
  response.version(request.version());
  response.keep_alive(false);
  const auto target = std::string_view(request.target());
  const auto path = target.substr(0, target.find('?'));
  if (path != "/metrics") {
    response.result(http::status::not_found);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "not found: the metrics are at /metrics\n";
  } else if (request.method() != http::verb::get) {
    response.result(http::status::method_not_allowed);
    response.set(http::field::allow, "GET");
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "method not allowed\n";
  } else {
    response.result(http::status::ok);
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = registry_.render();
  }
  response.prepare_payload();
  auto [write_ec, written] = co_await http::async_write(stream, response, use_nothrow);
  (void)written;
  if (!write_ec) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
}

}  // namespace cnimig::agent
