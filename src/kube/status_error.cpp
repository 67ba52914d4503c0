#include "cnimig/kube/status_error.hpp"

#include <charconv>

#include <boost/json.hpp>

namespace cnimig::kube {

Errc errc_from_status(unsigned s, std::string_view reason) {
  switch (s) {
    case 400:
      return Errc::bad_request;
    case 401:
      return Errc::unauthorized;
    case 403:
      return Errc::forbidden;
    case 404:
      return Errc::not_found;
    case 405:
      return Errc::method_not_allowed;
    case 409:
      return reason == "AlreadyExists" ? Errc::already_exists : Errc::conflict;
    case 410:
      return Errc::gone;
    case 422:
      return Errc::invalid;
    case 429:
      return Errc::too_many_requests;
    case 504:
      return Errc::timeout;
    default:
      break;
  }
  if (s >= 500)
    return Errc::server_error;
  if (reason == "Expired" || reason == "Gone")
    return Errc::gone;
  return Errc::protocol;
}

Error error_from_response(unsigned http_status, std::string_view body,
                          std::string_view retry_after_header) {
  Error e;
  e.http_status = static_cast<int>(http_status);
  e.message = "HTTP " + std::to_string(http_status);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (auto* kind = o.if_contains("kind");
        kind && kind->is_string() && kind->get_string() == "Status") {
      if (auto* r = o.if_contains("reason"); r && r->is_string())
        e.reason = std::string(r->get_string());
      if (auto* m = o.if_contains("message"); m && m->is_string() && !m->get_string().empty())
        e.message = std::string(m->get_string());
      if (auto* d = o.if_contains("details"); d && d->is_object()) {
        if (auto* ra = d->get_object().if_contains("retryAfterSeconds"); ra && ra->is_int64())
          e.retry_after = std::chrono::seconds(ra->get_int64());
      }
    }
  }
  if (!retry_after_header.empty()) {
    long long secs = 0;
    auto [p, err] = std::from_chars(retry_after_header.data(),
                                    retry_after_header.data() + retry_after_header.size(), secs);
    if (err == std::errc() && secs >= 0)
      e.retry_after = std::chrono::seconds(secs);
  }
  e.code = errc_from_status(http_status, e.reason);
  return e;
}

}  // namespace cnimig::kube
