#include "cnimig/kube/retry_policy.hpp"

#include <algorithm>

namespace cnimig::kube {

std::chrono::milliseconds RetryPolicy::backoff(int attempt, double random01) const {
  auto d = base;
  for (int i = 1; i < attempt && d < cap; ++i)
    d *= 2;
  d = std::min(d, cap);
  auto half = d / 2;
  return half + std::chrono::milliseconds(
                    static_cast<long long>(static_cast<double>(half.count()) * random01));
}

std::chrono::milliseconds RetryPolicy::delay(int attempt, const Error& error,
                                             double random01) const {
  if (error.retry_after.count() > 0)
    return std::min(error.retry_after, max_retry_after);
  return backoff(attempt, random01);
}

bool should_retry(const Error& e, bool idempotent, bool maybe_sent) {
  switch (e.code) {
    case Errc::too_many_requests:
      return true;
    case Errc::server_error:
      if (e.http_status == 503 && e.retry_after.count() > 0)
        return true;
      return idempotent;
    case Errc::timeout:
    case Errc::transport:
      return idempotent || !maybe_sent;
    default:
      return false;
  }
}

}  // namespace cnimig::kube
