// Client::exec: pod exec over a WebSocket (Beast) on the client's TLS
// settings. The API server upgrades GET .../pods/NAME/exec?command=... and
// then speaks the channel protocol decoded by ExecChannelDecoder.

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "cnimig/kube/status_error.hpp"

#include "client_impl.hpp"

namespace cnimig::kube {

namespace websocket = boost::beast::websocket;

asio::awaitable<Result<ExecResult>> Client::exec(const ExecRequest& request) {
  auto& impl = *impl_;
  std::string target =
      ResourcePath::core("pods").in(request.namespace_).named(request.pod).sub("exec").path();
  char sep = '?';
  for (const auto& arg : request.command) {
    target += sep;
    target += "command=" + url_encode(arg);
    sep = '&';
  }
  target += std::string(1, sep) + "stdout=true&stderr=true";
  if (!request.container.empty())
    target += "&container=" + url_encode(request.container);

  auto auth = co_await impl.credentials.authorization();
  if (!auth)
    co_return auth.error();

  auto conn = co_await impl.connect(request.timeout);
  if (!conn)
    co_return conn.error();
  websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(std::move((*conn)->stream));
  // One deadline for the whole exec: the tcp_stream expiry closes the socket
  // when it passes, failing whatever operation is pending.
  beast::get_lowest_layer(ws).expires_after(request.timeout);
  ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
    req.set(http::field::user_agent, impl.options.user_agent);
    // Offer v5 first; the server answers with the one it speaks.
    req.set(http::field::sec_websocket_protocol, "v5.channel.k8s.io, v4.channel.k8s.io");
    if (!auth->empty())
      req.set(http::field::authorization, *auth);
  }));
  websocket::response_type res;
  const std::string full_target = impl.full_target(target);
  const std::string path = target.substr(0, target.find('?'));
  auto started = std::chrono::steady_clock::now();
  auto [hec] = co_await ws.async_handshake(res, impl.address.host_header, full_target, use_nothrow);
  if (impl.options.observer)
    impl.options.observer(RequestRecord{Method::get, path, res.result_int(),
                                        std::chrono::steady_clock::now() - started, 1});
  if (hec) {
    if (res.result_int() >= 400)
      co_return error_from_response(res.result_int(), res.body(), res[http::field::retry_after]);
    co_return transport_error(hec, "exec handshake");
  }
  std::string protocol(res[http::field::sec_websocket_protocol]);
  if (protocol != "v5.channel.k8s.io" && protocol != "v4.channel.k8s.io")
    co_return make_error(Errc::protocol,
                         "exec: server chose no supported subprotocol (\"" + protocol + "\")");

  ExecChannelDecoder decoder;
  for (;;) {
    beast::flat_buffer buffer;
    auto [rec, n] = co_await ws.async_read(buffer, use_nothrow);
    if (rec == websocket::error::closed)
      break;
    if (rec) {
      if (decoder.has_status())
        break;  // status seen: a rough close loses nothing
      co_return transport_error(rec, "exec read");
    }
    auto data = buffer.cdata();
    auto fed = decoder.feed(std::string_view(static_cast<const char*>(data.data()), data.size()));
    if (!fed)
      co_return fed.error();
    if (decoder.has_status()) {
      // The server sends the status last; close politely, ignore failures.
      co_await ws.async_close(websocket::close_code::normal, use_nothrow);
      break;
    }
  }
  co_return decoder.result();
}

}  // namespace cnimig::kube
