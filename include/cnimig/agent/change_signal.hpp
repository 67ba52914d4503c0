#pragma once
// Wakes coroutines when something they wait for may have changed (a watch
// event, an action finishing): the driver waits on this or a deadline, never
// on a sleep-and-look loop. notify() wakes every current waiter.

#include <chrono>
#include <cstdint>
#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cnimig::agent {

class ChangeSignal {
 public:
  explicit ChangeSignal(boost::asio::any_io_executor ex)
      : timer_(ex, std::chrono::steady_clock::time_point::max()) {}

  void notify() {
    ++version_;
    timer_.cancel();  // expiry stays at max: the next waiter blocks again
  }
  // A change that came from a watch event (not from the driver's own
  // bookkeeping): also remembers when the first such event since the last
  // take_event_time() arrived, so the driver can measure its reaction time
  // (test/bench/README.md: event -> next write under 50 ms at p99).
  void notify_event() {
    if (!first_event_)
      first_event_ = std::chrono::steady_clock::now();
    notify();
  }
  std::optional<std::chrono::steady_clock::time_point> take_event_time() noexcept {
    auto t = first_event_;
    first_event_.reset();
    return t;
  }
  std::uint64_t version() const noexcept { return version_; }
  boost::asio::any_io_executor executor() { return timer_.get_executor(); }

  // Returns when version() != seen, or at the deadline.
  boost::asio::awaitable<void> wait(std::uint64_t seen,
                                    std::chrono::steady_clock::time_point deadline) {
    using namespace boost::asio::experimental::awaitable_operators;
    if (version_ != seen)
      co_return;
    boost::asio::steady_timer deadline_timer(timer_.get_executor(), deadline);
    constexpr auto token = boost::asio::as_tuple(boost::asio::use_awaitable);
    co_await (timer_.async_wait(token) || deadline_timer.async_wait(token));
  }

 private:
  boost::asio::steady_timer timer_;
  std::uint64_t version_ = 0;
  std::optional<std::chrono::steady_clock::time_point> first_event_;
};

}  // namespace cnimig::agent
