#include "client_verbs.hpp"

#include <boost/json/parse.hpp>

namespace cnimig::kube {

namespace json = boost::json;

std::string query_join(const QueryParameters& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    q += q.empty() ? '?' : '&';
    q += k;
    q += '=';
    q += url_encode(v);
  }
  return q;
}

HttpRequest make_request(Method m, std::string target, std::string body, std::string content_type,
                         bool idempotent, RequestOptions options) {
  HttpRequest r;
  r.method = m;
  r.target = std::move(target);
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  r.idempotent = idempotent;
  r.options = options;
  return r;
}

Result<json::object> parse_object(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return make_error(Errc::protocol, "response body is not a JSON object");
  return std::move(v.get_object());
}

asio::awaitable<Result<json::object>> request_object(Client::Impl& impl, HttpRequest request) {
  auto r = co_await impl.request(std::move(request));
  if (!r)
    co_return r.error();
  co_return parse_object(r->body);
}

}  // namespace cnimig::kube
