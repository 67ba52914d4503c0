#include "cnimig/common/async_semaphore.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cnimig {

namespace asio = boost::asio;

void AsyncSemaphore::Permit::reset() noexcept {
  if (owner_ != nullptr)
    std::exchange(owner_, nullptr)->release();
}

AsyncSemaphore::AsyncSemaphore(asio::any_io_executor executor, std::size_t slots)
    : slots_(std::max<std::size_t>(1, slots)), tokens_(std::move(executor), slots_) {}

asio::awaitable<Result<AsyncSemaphore::Permit>> AsyncSemaphore::acquire() {
  // A named value: GCC 12 mishandles braced temporaries in a co_await.
  const boost::system::error_code token;
  ++waiting_;
  auto [ec] = co_await tokens_.async_send(token, asio::as_tuple(asio::use_awaitable));
  --waiting_;
  if (ec)
    co_return make_error(Errc::cancelled, "waiting for a slot: " + ec.message());
  // Nothing suspends between the send's completion and here: the permit
  // exists before anything could cancel or throw.
  ++in_use_;
  co_return Permit(this);
}

std::optional<AsyncSemaphore::Permit> AsyncSemaphore::try_acquire() {
  if (!tokens_.try_send(boost::system::error_code{}))
    return std::nullopt;
  ++in_use_;
  return Permit(this);
}

void AsyncSemaphore::release() noexcept {
  --in_use_;
  // Takes this permit's token; the channel moves the oldest waiter's token
  // in and completes its send (resumed through its executor, not inline).
  tokens_.try_receive([](boost::system::error_code) {});
}

}  // namespace cnimig
