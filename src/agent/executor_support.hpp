#pragma once
// Internal to ActionExecutor, whose parts (executor_*.cpp) share these.

#include <chrono>
#include <random>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"

namespace cnimig::agent::detail {

// Success, or the object was already gone: both mean "deleted".
inline Result<void> gone_is_fine(const Result<boost::json::object>& r) {
  if (r || r.error().code == Errc::not_found)
    return {};
  return r.error();
}

inline boost::asio::awaitable<void> pause(std::chrono::milliseconds d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, d);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

// A share in [0, 1) for kube::RetryPolicy's jitter, so that retries of many
// pods do not hit the API server in step.
inline double jitter01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace cnimig::agent::detail
