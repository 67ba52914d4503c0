#include "cnimig/agent/budget_queue.hpp"

#include <map>
#include <optional>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig::agent;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Wake = BudgetQueue::Wake;

namespace {

constexpr const char* kBudget = "apps/worker";

// One waiter: records how and in which order its wait ended.
struct Waiters {
  asio::io_context io;
  BudgetQueue queue;
  std::vector<std::uint64_t> order;  // tickets, in the order their waits ended
  std::map<std::uint64_t, Wake> how;

  void wait(std::uint64_t ticket, std::uint64_t seen,
            std::chrono::steady_clock::duration fallback = 1h, asio::cancellation_slot slot = {}) {
    asio::co_spawn(io, run(ticket, seen, fallback),
                   asio::bind_cancellation_slot(slot, [](std::exception_ptr e) {
                     if (e)
                       std::rethrow_exception(e);
                   }));
    settle();
  }
  asio::awaitable<void> run(std::uint64_t ticket, std::uint64_t seen,
                            std::chrono::steady_clock::duration fallback) {
    const auto woke = co_await queue.wait(kBudget, ticket, seen, fallback);
    order.push_back(ticket);
    how[ticket] = woke;
  }
  // Lets every ready handler run; never waits for a timer.
  void settle() {
    io.restart();
    io.poll();
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_change_wakes_at_most_as_many_waiters_as_it_allows_oldest_first) {
  Waiters w;
  for (int i = 0; i < 5; ++i)
    w.wait(w.queue.ticket(), 10);
  BOOST_TEST(w.queue.waiting(kBudget) == 5u);
  w.queue.changed(kBudget, 11, 2);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{1, 2}));
  BOOST_TEST(w.queue.waiting(kBudget) == 3u);
  w.queue.changed(kBudget, 12, 1);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{1, 2, 3}));
  BOOST_TEST((w.how[3] == Wake::budget));
}

BOOST_AUTO_TEST_CASE(a_budget_allowing_none_or_not_newer_than_the_refusal_wakes_nobody) {
  Waiters w;
  w.wait(w.queue.ticket(), 20);
  w.queue.changed(kBudget, 21, 0);  // newer, allows none
  w.queue.changed(kBudget, 20, 1);  // allows one, but the refusal was at least this new
  w.settle();
  BOOST_TEST(w.order.empty());
  w.queue.changed(kBudget, 22, 1);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{1}));
}

BOOST_AUTO_TEST_CASE(a_waiter_refused_after_a_version_waits_while_older_ones_go) {
  Waiters w;
  w.wait(w.queue.ticket(), 30);  // refused after version 30 was shown
  w.wait(w.queue.ticket(), 10);
  w.queue.changed(kBudget, 25, 1);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{2}));
}

BOOST_AUTO_TEST_CASE(a_budget_shown_allowing_one_lets_the_first_in_line_go_at_once) {
  Waiters w;
  w.queue.changed(kBudget, 5, 1);
  w.wait(w.queue.ticket(), 5);  // refused with version 5 shown: waits
  BOOST_TEST(w.order.empty());
  w.wait(w.queue.ticket(), 3);  // version 5 may be newer than its refusal, but one is ahead
  BOOST_TEST(w.order.empty());
  BudgetQueue alone;
  alone.changed(kBudget, 5, 1);
  asio::io_context io;
  std::optional<Wake> woke;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { woke = co_await alone.wait(kBudget, 1, 3, 1h); },
      asio::detached);
  io.poll();
  BOOST_TEST((woke == Wake::budget));
  BOOST_TEST(alone.waiting(kBudget) == 0u);
}

BOOST_AUTO_TEST_CASE(a_waiter_woken_and_refused_again_keeps_its_place) {
  Waiters w;
  const auto first = w.queue.ticket();
  w.wait(first, 10);
  w.wait(w.queue.ticket(), 10);
  w.queue.changed(kBudget, 11, 1);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{first}));
  w.wait(first, 11);  // someone else took the disruption
  w.queue.changed(kBudget, 12, 1);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{first, first}));
  BOOST_TEST(w.queue.waiting(kBudget) == 1u);
}

BOOST_AUTO_TEST_CASE(the_fallback_timer_ends_a_wait_no_change_ends) {
  Waiters w;
  w.wait(w.queue.ticket(), 10, 1ms);
  w.io.restart();
  w.io.run();  // only the fallback timer is pending
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{1}));
  BOOST_TEST((w.how[1] == Wake::fallback));
  BOOST_TEST(w.queue.waiting(kBudget) == 0u);
}

BOOST_AUTO_TEST_CASE(cancellation_ends_a_wait_and_the_next_change_goes_to_the_next_waiter) {
  Waiters w;
  asio::cancellation_signal cancel;
  w.wait(w.queue.ticket(), 10, 1h, cancel.slot());
  w.wait(w.queue.ticket(), 10);
  cancel.emit(asio::cancellation_type::terminal);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{1}));
  BOOST_TEST((w.how[1] == Wake::cancelled));
  BOOST_TEST(w.queue.waiting(kBudget) == 1u);
  w.queue.changed(kBudget, 11, 1);
  w.settle();
  BOOST_TEST(w.order == (std::vector<std::uint64_t>{1, 2}));
  BOOST_TEST((w.how[2] == Wake::budget));
}

BOOST_AUTO_TEST_CASE(a_deleted_budget_wakes_every_waiter) {
  Waiters w;
  for (int i = 0; i < 3; ++i)
    w.wait(w.queue.ticket(), 10);
  w.queue.removed(kBudget);
  w.settle();
  BOOST_TEST(w.order.size() == 3u);
  BOOST_TEST(w.queue.waiting(kBudget) == 0u);
}
