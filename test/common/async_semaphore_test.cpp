#include "cnimig/common/async_semaphore.hpp"

#include <memory>
#include <stdexcept>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig;
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

// Holds a slot until `gate` is cancelled, recording the order slots were granted in.
asio::awaitable<void> holder(AsyncSemaphore& sem, int id, std::vector<int>& order,
                             asio::steady_timer& gate) {
  auto permit = co_await sem.acquire();
  BOOST_TEST_REQUIRE(permit.has_value());
  order.push_back(id);
  co_await gate.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Lets every ready handler run (the semaphore resumes waiters through the executor).
void settle(asio::io_context& io) {
  io.restart();
  io.poll();
}

asio::awaitable<void> never(asio::steady_timer& t) {
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(async_semaphore)

BOOST_AUTO_TEST_CASE(at_most_slots_holders_and_fifo_hand_over) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 2);
  std::vector<int> order;
  // One gate per holder so that each can be let go individually.
  std::vector<std::unique_ptr<asio::steady_timer>> gates;
  for (int i = 0; i < 5; ++i) {
    gates.push_back(
        std::make_unique<asio::steady_timer>(io, asio::steady_timer::time_point::max()));
    asio::co_spawn(io, holder(sem, i, order, *gates.back()), asio::detached);
  }
  settle(io);
  BOOST_TEST(order == (std::vector<int>{0, 1}));
  BOOST_TEST(sem.in_use() == 2u);
  BOOST_TEST(sem.waiting() == 3u);
  BOOST_TEST(!sem.try_acquire().has_value());

  gates[1]->cancel();  // the second holder leaves: the oldest waiter (2) enters
  settle(io);
  BOOST_TEST(order == (std::vector<int>{0, 1, 2}));
  gates[0]->cancel();
  settle(io);
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3}));
  BOOST_TEST(sem.in_use() == 2u);
  gates[2]->cancel();
  settle(io);
  BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4}));
  gates[3]->cancel();
  gates[4]->cancel();
  settle(io);
  BOOST_TEST(sem.in_use() == 0u);
  BOOST_TEST(sem.waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_waiter_takes_no_slot) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 1);
  auto first = sem.try_acquire();
  BOOST_TEST_REQUIRE(first.has_value());

  // A waiter that loses a race (`||`) while queued: its wait is cancelled.
  asio::steady_timer short_timer(io, std::chrono::milliseconds(1));
  bool cancelled_seen = false;
  auto racer = [](AsyncSemaphore& s, asio::steady_timer& t, bool& seen) -> asio::awaitable<void> {
    auto outcome = co_await (s.acquire() || t.async_wait(asio::use_awaitable));
    seen = outcome.index() == 1;
  };
  asio::co_spawn(io, racer(sem, short_timer, cancelled_seen), asio::detached);
  io.run();  // ends when the timer won and the cancelled wait completed
  BOOST_TEST(cancelled_seen);
  BOOST_TEST(sem.waiting() == 0u);
  BOOST_TEST(sem.in_use() == 1u);

  // Its cancellation left the one slot with the first holder; once that is
  // returned the slot is free again, for exactly one.
  first->reset();
  BOOST_TEST(sem.in_use() == 0u);
  auto again = sem.try_acquire();
  BOOST_TEST(again.has_value());
  BOOST_TEST(!sem.try_acquire().has_value());
}

BOOST_AUTO_TEST_CASE(cancelled_waiter_does_not_hold_up_the_next) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 1);
  auto first = sem.try_acquire();
  BOOST_TEST_REQUIRE(first.has_value());
  asio::steady_timer forever(io, asio::steady_timer::time_point::max());
  asio::steady_timer loser_deadline(io, asio::steady_timer::time_point::max());
  std::vector<int> order;
  auto loser = [](AsyncSemaphore& s, asio::steady_timer& t) -> asio::awaitable<void> {
    co_await (s.acquire() || never(t));
  };
  asio::co_spawn(io, loser(sem, loser_deadline), asio::detached);
  asio::co_spawn(io, holder(sem, 2, order, forever), asio::detached);
  settle(io);
  BOOST_TEST(sem.waiting() == 2u);
  loser_deadline.cancel();  // the first waiter gives up
  settle(io);
  BOOST_TEST(sem.waiting() == 1u);
  first->reset();  // the slot goes to the second waiter, not to the one that left
  settle(io);
  BOOST_TEST(order == (std::vector<int>{2}));
  BOOST_TEST(sem.in_use() == 1u);
  forever.cancel();
  settle(io);
  BOOST_TEST(sem.in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(slot_returned_when_the_holder_throws) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 1);
  auto thrower = [](AsyncSemaphore& s) -> asio::awaitable<void> {
    auto permit = co_await s.acquire();
    BOOST_TEST_REQUIRE(permit.has_value());
    throw std::runtime_error("request failed");
  };
  bool threw = false;
  asio::co_spawn(io, thrower(sem), [&](std::exception_ptr e) { threw = e != nullptr; });
  io.run();
  BOOST_TEST(threw);
  BOOST_TEST(sem.in_use() == 0u);
  BOOST_TEST(sem.try_acquire().has_value());
}

BOOST_AUTO_TEST_CASE(permits_move_and_reset_once) {
  asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 2);
  auto a = sem.try_acquire();
  BOOST_TEST_REQUIRE(a.has_value());
  AsyncSemaphore::Permit moved = std::move(*a);
  BOOST_TEST(!*a);
  BOOST_TEST(static_cast<bool>(moved));
  BOOST_TEST(sem.in_use() == 1u);
  a->reset();  // empty: gives nothing back
  BOOST_TEST(sem.in_use() == 1u);
  moved.reset();
  moved.reset();
  BOOST_TEST(sem.in_use() == 0u);
  // Zero slots would be a hang: it is taken as one.
  AsyncSemaphore one(io.get_executor(), 0);
  BOOST_TEST(one.slots() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
