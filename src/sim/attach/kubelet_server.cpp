#include "kubelet_server.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/exception_message.hpp"
#include "cnimig/common/split.hpp"

#include "../api_handler.hpp"
#include "../exec_channel.hpp"

namespace cnimig::sim {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

struct KubeletServer::Impl : std::enable_shared_from_this<KubeletServer::Impl> {
  Impl(asio::io_context& io, const ObjectStore& store, ExecHook exec)
      : io(io), store(store), exec(std::move(exec)), tls(asio::ssl::context::tls_server) {}

  asio::io_context& io;
  const ObjectStore& store;
  ExecHook exec;
  asio::ssl::context tls;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::weak_ptr<SslStream>> sessions;
  std::size_t execs = 0;
  bool stopped = false;

  awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    auto self = shared_from_this();
    while (!stopped) {
      auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
      if (ec) {
        if (stopped || ec == asio::error::operation_aborted)
          co_return;
        continue;
      }
      auto stream = std::make_shared<SslStream>(std::move(socket), tls);
      std::erase_if(sessions, [](const auto& w) { return w.expired(); });
      sessions.push_back(stream);
      asio::co_spawn(io, session(stream), [](std::exception_ptr e) {
        if (e)
          spdlog::debug("cnimig-sim: kubelet connection ended: {}", exception_message(e));
      });
    }
  }

  awaitable<void> reply(SslStream& stream, unsigned version, http::status status,
                        std::string body) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::content_type, "text/plain");
    res.body() = std::move(body);
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(stream, res, use_nothrow);
  }

  awaitable<void> session(std::shared_ptr<SslStream> stream) {
    auto self = shared_from_this();
    beast::get_lowest_layer(*stream).expires_after(std::chrono::seconds(30));
    auto [hec] = co_await stream->async_handshake(asio::ssl::stream_base::server, use_nothrow);
    if (hec)
      co_return;
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [rec, rn] = co_await http::async_read(*stream, buffer, req, use_nothrow);
    (void)rn;
    if (rec)
      co_return;
    beast::get_lowest_layer(*stream).expires_never();
    co_await serve(*stream, req);
  }

  // GET /exec/NS/POD/CONTAINER?command=...&output=1&error=1 upgraded to WebSocket.
  awaitable<void> serve(SslStream& stream, const http::request<http::string_body>& req) {
    const std::string target(req.target());
    const auto qpos = target.find('?');
    const auto parts = split(std::string_view(target).substr(0, qpos), '/');
    // "", "exec", NS, POD, CONTAINER
    if (parts.size() != 5 || parts[1] != "exec" || !beast::websocket::is_upgrade(req)) {
      co_await reply(stream, req.version(), http::status::not_found,
                     "this kubelet serves WebSocket exec only\n");
      co_return;
    }
    auto pod = store.get(resource_type("", "pods"), parts[2], parts[3]);
    if (!pod) {
      co_await reply(stream, req.version(), http::status::not_found, "pod not found\n");
      co_return;
    }
    const std::string chosen = exec_subprotocol(req[http::field::sec_websocket_protocol]);
    if (chosen.empty()) {
      co_await reply(stream, req.version(), http::status::bad_request,
                     "unsupported exec subprotocol\n");
      co_return;
    }
    const Query q = Query::parse(
        qpos == std::string::npos ? std::string_view{} : std::string_view(target).substr(qpos + 1));
    const auto command = q.all("command");
    // The kubelet's names for the streams: output and error (the API
    // server's stdout and stderr), "1" when wanted.
    const ExecStreams streams{q.flag("output"), q.flag("error")};
    const auto result = exec(*pod, command);
    ++execs;
    co_await answer_exec(stream, req, chosen, result, command, streams);
  }
};

KubeletServer::KubeletServer(asio::io_context& io, const ObjectStore& store, ExecHook exec)
    : impl_(std::make_shared<Impl>(io, store, std::move(exec))) {}

KubeletServer::~KubeletServer() {
  stop();
}

Result<void> KubeletServer::load_tls(const std::filesystem::path& dir) {
  boost::system::error_code ec;
  auto& tls = impl_->tls;
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  tls.use_certificate_chain_file((dir / "kubelet.crt").string(), ec);
  if (!ec)
    tls.use_private_key_file((dir / "kubelet.key").string(), asio::ssl::context::pem, ec);
  if (!ec)
    tls.load_verify_file((dir / "ca.crt").string(), ec);
  if (!ec)
    tls.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
  if (ec)
    return make_error(Errc::tls, "kubelet TLS from " + dir.string() + ": " + ec.message());
  return {};
}

Result<std::uint16_t> KubeletServer::start(const std::vector<std::string>& addresses,
                                           std::uint16_t port) {
  for (const auto& address : addresses) {
    boost::system::error_code ec;
    const tcp::endpoint ep(asio::ip::make_address(address, ec), port);
    auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
    if (!ec)
      acceptor->open(ep.protocol(), ec);
    if (!ec)
      acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
      acceptor->bind(ep, ec);
    if (!ec)
      acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return make_error(Errc::transport, "kubelet cannot listen on " + address + ":" +
                                             std::to_string(port) + ": " + ec.message());
    port = acceptor->local_endpoint().port();
    asio::co_spawn(impl_->io, impl_->accept_loop(*acceptor), [](std::exception_ptr e) {
      if (e)
        spdlog::error("cnimig-sim: kubelet accept loop failed: {}", exception_message(e));
    });
    impl_->acceptors.push_back(std::move(acceptor));
  }
  return port;
}

void KubeletServer::stop() {
  impl_->stopped = true;
  boost::system::error_code ec;
  for (auto& a : impl_->acceptors)
    a->close(ec);
  for (auto& w : impl_->sessions)
    if (auto s = w.lock())
      beast::get_lowest_layer(*s).socket().close(ec);
  impl_->sessions.clear();
}

std::size_t KubeletServer::execs() const {
  return impl_->execs;
}

}  // namespace cnimig::sim
