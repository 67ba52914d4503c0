#include "cnimig/agent/sliced_plan.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cnimig::agent {

namespace asio = boost::asio;

asio::awaitable<std::optional<migrate::PlanRun>> run_plan_sliced(migrate::PlanRunner& runner,
                                                                 std::size_t rounds_per_slice) {
  // Checked below at each boundary rather than thrown from the yield.
  co_await asio::this_coro::throw_if_cancelled(false);
  const auto executor = co_await asio::this_coro::executor;
  while (!runner.advance(rounds_per_slice)) {
    // To the back of the executor's queue: what became ready meanwhile
    // (a signal, a watch event) runs first.
    co_await asio::post(executor, asio::use_awaitable);
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
      co_return std::nullopt;
  }
  co_return runner.finish();
}

}  // namespace cnimig::agent
