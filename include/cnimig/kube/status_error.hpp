#pragma once
// Turns an HTTP error response into a typed cnimig::Error. The API server
// answers failures with a metav1.Status body (kind: Status) whose `reason`
// refines the HTTP code: 409 is AlreadyExists on create and Conflict on an
// optimistic-concurrency failure; 429 and 503 may carry Retry-After or
// details.retryAfterSeconds.

#include <string_view>

#include "cnimig/common/error.hpp"

namespace cnimig::kube {

// `retry_after_header` is the raw Retry-After value (delta-seconds), or empty.
Error error_from_response(unsigned http_status, std::string_view body,
                          std::string_view retry_after_header);

// The Errc for an HTTP status and Status.reason.
Errc errc_from_status(unsigned http_status, std::string_view reason);

}  // namespace cnimig::kube
