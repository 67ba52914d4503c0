#pragma once
// Private to the kube module: the connection pool and transport shared by
// Client, WatchStream and pod exec. Not a public header (it pulls in Beast).

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "cnimig/common/async_semaphore.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/credentials.hpp"
#include "cnimig/kube/server_clock.hpp"

namespace cnimig::kube {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

struct ServerAddress {
  std::string host;         // without brackets
  std::string port;         // "443" by default
  std::string base_path;    // "" or "/prefix"
  std::string host_header;  // host[:port] as sent in Host
  std::string verify_name;  // tls-server-name or host
  bool host_is_ip = false;
};
Result<ServerAddress> parse_server_url(const std::string& url);

struct Connection {
  Connection(const asio::any_io_executor& ex, ssl::context& ctx) : stream(ex, ctx) {}
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since{};
  bool reused = false;
};

// Maps a transport error_code to our Errc (timeouts, TLS, cancellation).
Error transport_error(const boost::system::error_code& ec, std::string_view during);

struct Client::Impl {
  asio::any_io_executor executor;
  ClientConfig config;
  ClientOptions options;
  AsyncSemaphore request_slots;  // ClientOptions::max_requests_in_flight
  ssl::context tls{ssl::context::tls_client};
  ServerAddress address;
  Credentials credentials;
  std::vector<std::unique_ptr<Connection>> idle;
  ServerClock server_clock;  // from every response's Date header
  std::mt19937_64 rng{std::random_device{}()};

  Impl(asio::any_io_executor ex, ClientConfig cfg, ClientOptions opts, ServerAddress addr)
      : executor(std::move(ex)),
        config(std::move(cfg)),
        options(std::move(opts)),
        request_slots(executor, options.max_requests_in_flight),
        address(std::move(addr)),
        credentials(config) {}

  double random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

  // A fresh connected and TLS-handshaken connection (deadline `timeout`).
  asio::awaitable<Result<std::unique_ptr<Connection>>> connect(std::chrono::milliseconds timeout);
  // A pooled connection still open, else a new one.
  asio::awaitable<Result<std::unique_ptr<Connection>>> acquire(std::chrono::milliseconds timeout);
  void release(std::unique_ptr<Connection> c);

  // Adds Host, User-Agent, Accept and Authorization.
  asio::awaitable<Result<void>> decorate(http::request<http::string_body>& req);
  std::string full_target(const std::string& target) const { return address.base_path + target; }

  // Retries per the retry policy; one attempt at a time holds a request slot.
  asio::awaitable<Result<HttpResponse>> request(HttpRequest r);

  // What one attempt of request() came back with.
  struct Attempt {
    Result<HttpResponse> result = make_error(Errc::internal, "unset");
    bool maybe_sent = false;  // the server may have seen it: see should_retry()
    std::string retry_after;  // the response's Retry-After
    // When the attempt began; set again once it holds a slot (the
    // queueing is not the server's).
    std::chrono::steady_clock::time_point started;
  };
  // Headers, a slot, a connection, then exchange().
  asio::awaitable<Attempt> send_once(const HttpRequest& r);
  // Writes `req` and reads the answer within `timeout`; the connection goes
  // back to the pool when the server keeps it open.
  asio::awaitable<void> exchange(std::unique_ptr<Connection> c,
                                 http::request<http::string_body>& req,
                                 std::chrono::milliseconds timeout, Attempt& a);
};

}  // namespace cnimig::kube
