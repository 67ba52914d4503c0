#include "cnimig/common/error.hpp"

namespace cnimig {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::config:
      return "configuration error";
    case Errc::bad_request:
      return "bad request";
    case Errc::unauthorized:
      return "unauthorized";
    case Errc::forbidden:
      return "forbidden";
    case Errc::not_found:
      return "not found";
    case Errc::method_not_allowed:
      return "method not allowed";
    case Errc::already_exists:
      return "already exists";
    case Errc::conflict:
      return "conflict";
    case Errc::gone:
      return "gone";
    case Errc::invalid:
      return "invalid";
    case Errc::too_many_requests:
      return "too many requests";
    case Errc::server_error:
      return "server error";
    case Errc::timeout:
      return "timeout";
    case Errc::transport:
      return "transport error";
    case Errc::tls:
      return "TLS error";
    case Errc::protocol:
      return "protocol error";
    case Errc::cancelled:
      return "cancelled";
    case Errc::internal:
      return "internal error";
  }
  return "unknown error";
}

bool Error::retryable() const noexcept {
  switch (code) {
    case Errc::too_many_requests:
    case Errc::server_error:
    case Errc::timeout:
    case Errc::transport:
      return true;
    default:
      return false;
  }
}

std::string Error::describe() const {
  std::string out(to_string(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  return out;
}

Error make_error(Errc code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

Error make_error(Errc code, int http_status, std::string reason, std::string message) {
  Error e = make_error(code, std::move(message));
  e.http_status = http_status;
  e.reason = std::move(reason);
  return e;
}

ErrorException::ErrorException(Error error)
    : std::runtime_error(error.describe()), error_(std::move(error)) {}

void throw_exception_from_error(const Error& error, const boost::source_location&) {
  throw ErrorException(error);
}

}  // namespace cnimig
