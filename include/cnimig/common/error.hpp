#pragma once
// The one error type of the project. Errors cross module boundaries as values
// (cnimig::Result<T>); code that cannot continue throws ErrorException, which
// carries the same Error. Kubernetes `Status` reasons map onto Errc so callers
// branch on the kind of failure, never on message text.

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>

namespace cnimig {

enum class Errc {
  invalid_argument,    // bad flag or value supplied by the operator
  config,              // configuration or manifest file is wrong
  bad_request,         // HTTP 400
  unauthorized,        // HTTP 401
  forbidden,           // HTTP 403
  not_found,           // HTTP 404
  method_not_allowed,  // HTTP 405
  already_exists,      // HTTP 409, reason AlreadyExists
  conflict,            // HTTP 409, optimistic concurrency
  gone,                // HTTP 410, resourceVersion too old
  invalid,             // HTTP 422
  too_many_requests,   // HTTP 429 (includes PDB-blocked evictions)
  server_error,        // HTTP 5xx
  timeout,             // a deadline of ours expired
  transport,           // connect, read or write failed
  tls,                 // handshake or certificate verification failed
  protocol,            // the peer sent something we cannot parse
  cancelled,           // the operation was cancelled (signal, shutdown)
  internal,            // a bug: an invariant did not hold
};

std::string_view to_string(Errc code) noexcept;

struct Error {
  Errc code = Errc::internal;
  std::string message;
  int http_status = 0;                       // 0 when the error did not come from an HTTP response
  std::string reason;                        // Kubernetes Status.reason, when present
  std::chrono::milliseconds retry_after{0};  // Retry-After or Status.details.retryAfterSeconds

  // Transient failures that a request may be retried on (idempotency permitting).
  bool retryable() const noexcept;
  // "<code>: <message>", suitable for logs and event `error` fields.
  std::string describe() const;
};

Error make_error(Errc code, std::string message);
// An error as an API server answers it: HTTP status and Status.reason.
Error make_error(Errc code, int http_status, std::string reason, std::string message);

class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(Error error);
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// Lets boost::system::result<T, Error>::value() throw ErrorException.
[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location& loc);

}  // namespace cnimig
