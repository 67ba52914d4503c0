#pragma once
// A loopback HTTPS server for the kube client tests: Beast over TLS with a
// certificate from a CertificateAuthority made at test time. Each test
// passes a handler that answers (or misbehaves on) every request.

#include <functional>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/net/certificate_authority.hpp"

namespace cnimig::kube::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Stream = beast::ssl_stream<beast::tcp_stream>;
using Request = http::request<http::string_body>;
// Answers one request; returns whether the connection stays open.
using Handler = std::function<asio::awaitable<bool>(Request&, Stream&)>;
inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

inline asio::awaitable<bool> respond(Stream& s, unsigned status, std::string body,
                                     std::vector<std::pair<std::string, std::string>> headers = {},
                                     bool keep_alive = true) {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  for (auto& [k, v] : headers)
    res.set(k, v);
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  auto [ec, n] = co_await http::async_write(s, res, nothrow);
  co_return !ec && keep_alive;
}

inline std::string status_body(unsigned code, const std::string& reason,
                               const std::string& extra = "") {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":")" + reason +
         R"(","code":)" + std::to_string(code) + extra + "}";
}

class TlsTestServer {
 public:
  TlsTestServer(asio::io_context& ioc, const net::IssuedCertificate& cert,
                const std::string& client_ca_pem = "")
      : ioc_(ioc),
        ctx_(ssl::context::tls_server),
        acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    ctx_.use_certificate_chain(asio::buffer(cert.cert_pem));
    ctx_.use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
    if (!client_ca_pem.empty()) {
      ctx_.add_certificate_authority(asio::buffer(client_ca_pem));
      ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port()); }

  void start(Handler handler) {
    handler_ = std::move(handler);
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
  }

  int accepted = 0;
  int handshakes_failed = 0;
  std::vector<std::string> targets;
  std::vector<Request> requests;

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(nothrow);
      if (ec)
        co_return;
      ++accepted;
      asio::co_spawn(ioc_, session(std::move(sock)), asio::detached);
    }
  }
  asio::awaitable<void> session(tcp::socket sock) {
    Stream stream(std::move(sock), ctx_);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow);
    if (hec) {
      ++handshakes_failed;
      co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
      Request req;
      auto [ec, n] = co_await http::async_read(stream, buffer, req, nothrow);
      if (ec)
        break;
      targets.emplace_back(req.target());
      requests.push_back(req);
      if (!co_await handler_(req, stream))
        break;
    }
    beast::get_lowest_layer(stream).close();
  }

  asio::io_context& ioc_;
  ssl::context ctx_;
  tcp::acceptor acceptor_;
  Handler handler_;
};

// Runs one test coroutine on `ioc` to completion (or fails after `limit`).
template <class F>
void run(asio::io_context& ioc, F&& make_coroutine,
         std::chrono::seconds limit = std::chrono::seconds(30)) {
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, make_coroutine(), [&](std::exception_ptr e) {
    done = true;
    error = e;
    ioc.stop();
  });
  ioc.restart();
  ioc.run_for(limit);
  BOOST_TEST_REQUIRE(done, "the test coroutine did not finish in time");
  if (error)
    std::rethrow_exception(error);
}

}  // namespace cnimig::kube::test
