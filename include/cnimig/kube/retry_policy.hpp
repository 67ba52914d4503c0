#pragma once
// Backoff between attempts of one request, and which failures are worth
// another attempt. Pure, so the rules are testable without sockets.

#include <chrono>

#include "cnimig/common/error.hpp"

namespace cnimig::kube {

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds base{200};
  std::chrono::milliseconds cap{10'000};
  std::chrono::milliseconds max_retry_after{120'000};  // longest Retry-After we wait for

  // "Equal jitter" exponential backoff: half of base*2^(attempt-1) (capped)
  // plus a random share of the other half. `random01` in [0, 1).
  std::chrono::milliseconds backoff(int attempt, double random01) const;

  // The wait before the next attempt: the server's Retry-After when it gave
  // one, else backoff().
  std::chrono::milliseconds delay(int attempt, const Error& error, double random01) const;
};

// Whether a failed attempt may be repeated.
//  - `maybe_sent`: the request bytes may have reached the server (a dropped
//    connection after writing) - ambiguous for non-idempotent writes;
//  - 429 and 503-with-Retry-After mean the server did not act: always safe;
//  - other 5xx, timeouts and dropped connections: only idempotent requests;
//  - TLS failures and other 4xx: never.
bool should_retry(const Error& error, bool idempotent, bool maybe_sent);

}  // namespace cnimig::kube
