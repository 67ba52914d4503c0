// Client: its creation (TLS context, credentials, the server's address) and
// the request every verb goes through. The verbs are in client_reads.cpp,
// client_writes.cpp and client_access_review.cpp; the transport in
// client_transport.cpp and client_request.cpp.

#include <spdlog/spdlog.h>

#include "client_impl.hpp"

namespace cnimig::kube {

std::string_view to_string(Method m) noexcept {
  switch (m) {
    case Method::get:
      return "GET";
    case Method::post:
      return "POST";
    case Method::put:
      return "PUT";
    case Method::patch:
      return "PATCH";
    case Method::delete_:
      return "DELETE";
  }
  return "GET";
}

namespace {

Error tls_setup_error(const std::string& what) {
  return make_error(Errc::tls, what);
}

}  // namespace

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::create(asio::any_io_executor executor, ClientConfig config,
                                               ClientOptions options) {
  auto addr = parse_server_url(config.server);
  if (!addr)
    return addr.error();
  if (!config.tls_server_name.empty())
    addr->verify_name = config.tls_server_name;
  auto impl = std::make_unique<Impl>(std::move(executor), std::move(config), std::move(options),
                                     std::move(*addr));
  auto& ctx = impl->tls;
  const auto& cfg = impl->config;
  boost::system::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (cfg.insecure_skip_tls_verify) {
    spdlog::warn(
        "kube: insecure-skip-tls-verify is set for {}: the API server's certificate is NOT "
        "verified; "
        "anyone on the path can impersonate the cluster",
        cfg.server);
  } else if (!cfg.ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(cfg.ca_pem), ec);
    if (ec)
      return tls_setup_error("certificate authority (" + cfg.description +
                             "): not a valid PEM certificate");
  } else {
    ctx.set_default_verify_paths(ec);
    if (ec)
      return tls_setup_error("cannot load the system trust store");
  }
  if (!cfg.client_cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(cfg.client_cert_pem), ec);
    if (ec)
      return tls_setup_error("client certificate (" + cfg.description +
                             "): not a valid PEM certificate");
    ctx.use_private_key(asio::buffer(cfg.client_key_pem), ssl::context::pem, ec);
    if (ec)
      return tls_setup_error("client key (" + cfg.description +
                             "): not a valid PEM key or does not match");
  }
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const ClientConfig& Client::config() const noexcept {
  return impl_->config;
}
asio::any_io_executor Client::get_executor() const noexcept {
  return impl_->executor;
}
const ServerClock& Client::server_clock() const noexcept {
  return impl_->server_clock;
}

void Client::set_observer(RequestObserver observer) {
  impl_->options.observer = std::move(observer);
}

asio::awaitable<Result<HttpResponse>> Client::request(HttpRequest request) {
  co_return co_await impl_->request(std::move(request));
}

}  // namespace cnimig::kube
