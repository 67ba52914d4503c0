// Client::Impl's transport: the server's address, TLS connections and the
// keep-alive pool they return to, and the headers every request carries.

#include "client_impl.hpp"
#include <sys/socket.h>

namespace cnimig::kube {
namespace {

bool is_ip(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// A pooled connection the server already closed (FIN or TLS close_notify
// waiting in the socket) must not carry the next request: with a
// non-idempotent write that would turn into an ambiguous failure.
bool looks_alive(Connection& c) {
  auto& sock = beast::get_lowest_layer(c.stream).socket();
  char byte;
  ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0)
    return false;  // orderly shutdown
  if (n > 0)
    return false;                                  // unsolicited bytes (close_notify)
  return errno == EAGAIN || errno == EWOULDBLOCK;  // nothing pending: alive
}

}  // namespace

Error transport_error(const boost::system::error_code& ec, std::string_view during) {
  std::string what = std::string(during) + ": " + ec.message();
  if (ec == beast::error::timeout)
    return make_error(Errc::timeout, std::string(during) + ": deadline expired");
  if (ec == asio::error::operation_aborted)
    return make_error(Errc::cancelled, what);
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    // stream_truncated and friends after the handshake are dropped connections.
    if (during == "handshake")
      return make_error(Errc::tls, what);
    return make_error(Errc::transport, what);
  }
  return make_error(Errc::transport, what);
}

Result<ServerAddress> parse_server_url(const std::string& url) {
  ServerAddress a;
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0)
    return make_error(Errc::config, "server URL must start with https://");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) {
    a.base_path = rest.substr(slash);
    while (!a.base_path.empty() && a.base_path.back() == '/')
      a.base_path.pop_back();
  }
  if (authority.empty())
    return make_error(Errc::config, "server URL has no host");
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos)
      return make_error(Errc::config, "server URL: unterminated IPv6 address");
    a.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      a.port = authority.substr(close + 2);
  } else {
    auto colon = authority.rfind(':');
    a.host = authority.substr(0, colon);
    if (colon != std::string::npos)
      a.port = authority.substr(colon + 1);
  }
  if (a.port.empty())
    a.port = "443";
  a.host_header = authority;
  a.host_is_ip = is_ip(a.host);
  a.verify_name = a.host;
  return a;
}

asio::awaitable<Result<std::unique_ptr<Connection>>> Client::Impl::connect(
    std::chrono::milliseconds timeout) {
  auto c = std::make_unique<Connection>(executor, tls);
  if (!config.insecure_skip_tls_verify) {
    c->stream.set_verify_mode(ssl::verify_peer);
    // Checks the DNS or IP subject alternative names against the server name.
    c->stream.set_verify_callback(ssl::host_name_verification(address.verify_name));
  } else {
    c->stream.set_verify_mode(ssl::verify_none);
  }
  // SNI carries DNS names only (RFC 6066 forbids IP literals).
  if (!is_ip(address.verify_name))
    SSL_set_tlsext_host_name(c->stream.native_handle(), address.verify_name.c_str());

  asio::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(address.host, address.port, use_nothrow);
  if (rec)
    co_return transport_error(rec, "resolve " + address.host);
  auto& tcp = beast::get_lowest_layer(c->stream);
  tcp.expires_after(timeout);
  auto [cec, ep] = co_await tcp.async_connect(endpoints, use_nothrow);
  if (cec)
    co_return transport_error(cec, "connect");
  tcp.socket().set_option(asio::ip::tcp::no_delay(true));
  auto [hec] = co_await c->stream.async_handshake(ssl::stream_base::client, use_nothrow);
  if (hec)
    co_return transport_error(hec, "handshake");
  tcp.expires_never();
  co_return c;
}

asio::awaitable<Result<std::unique_ptr<Connection>>> Client::Impl::acquire(
    std::chrono::milliseconds timeout) {
  auto now = std::chrono::steady_clock::now();
  while (!idle.empty()) {
    auto c = std::move(idle.back());
    idle.pop_back();
    if (now - c->idle_since < options.max_idle_time && looks_alive(*c)) {
      c->reused = true;
      co_return c;
    }
  }
  co_return co_await connect(timeout);
}

void Client::Impl::release(std::unique_ptr<Connection> c) {
  if (idle.size() >= options.max_idle_connections)
    return;
  c->idle_since = std::chrono::steady_clock::now();
  beast::get_lowest_layer(c->stream).expires_never();
  idle.push_back(std::move(c));
}

asio::awaitable<Result<void>> Client::Impl::decorate(http::request<http::string_body>& req) {
  req.set(http::field::host, address.host_header);
  req.set(http::field::user_agent, options.user_agent);
  if (req[http::field::accept].empty())
    req.set(http::field::accept, "application/json");
  auto auth = co_await credentials.authorization();
  if (!auth)
    co_return auth.error();
  if (!auth->empty())
    req.set(http::field::authorization, *auth);
  co_return Result<void>{};
}

}  // namespace cnimig::kube
