#pragma once
// Evictions a PodDisruptionBudget refused, each waiting for its budget to
// allow a disruption again instead of retrying on a blind timer. The budget's
// watch reports every change (changed()); a change that shows
// status.disruptionsAllowed = N > 0 wakes at most N waiters, oldest first,
// and only those that were refused before that version (a waiter woken by the
// state that refused it would be refused again). The rest keep waiting: a
// budget that allows one disruption and 1,500 waiters gets one request per
// change, not 1,500. Every wait also ends on its own fallback timer (a missed
// event, a budget the watch does not show) and on cancellation.
//
//   auto ticket = queue.ticket();                    // once per eviction
//   auto seen = watch_version_when_the_request_went_out;
//   switch (co_await queue.wait("apps/worker", ticket, seen, 30s)) { ... }

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

namespace cnimig::agent {

class BudgetQueue {
 public:
  enum class Wake {
    budget,     // the budget allows a disruption in a version newer than `seen`
    fallback,   // the fallback timer ran out first
    cancelled,  // the waiting coroutine was cancelled
  };

  // A waiter's place in line: lower tickets are woken first. An eviction
  // takes one ticket and keeps it through every refusal, so a waiter whose
  // wake-up was taken by someone else does not go to the back.
  std::uint64_t ticket() noexcept { return ++tickets_; }

  // Returns once `budget` shows disruptionsAllowed > 0 in a resourceVersion
  // newer than `seen` (the newest version the watch had shown when the
  // refused request went out) with this waiter among the first that many in
  // line, or after `fallback`, or when the calling coroutine is cancelled.
  // The state already shown counts: a budget that allows one now returns at
  // once when fewer waiters than it allows are ahead.
  boost::asio::awaitable<Wake> wait(std::string budget, std::uint64_t ticket, std::uint64_t seen,
                                    std::chrono::steady_clock::duration fallback);

  // The budget as the watch shows it now, at resourceVersion `version`.
  void changed(const std::string& budget, std::uint64_t version, std::int64_t allowed);
  // A deleted budget blocks nothing any more: all its waiters are woken.
  void removed(const std::string& budget);

  std::size_t waiting(const std::string& budget) const;

 private:
  struct Waiter {
    std::uint64_t seen;
    boost::asio::steady_timer* timer;
    bool* woken;
  };
  struct Budget {
    std::uint64_t version = 0;
    std::int64_t allowed = 0;
    std::map<std::uint64_t, Waiter> waiters;  // by ticket
  };
  // Whether a state (`b`) newer than `seen` lets the waiter `ticket` go now.
  static bool admits(const Budget& b, std::uint64_t ticket, std::uint64_t seen);
  static void wake(std::map<std::uint64_t, Waiter>::iterator it);

  std::unordered_map<std::string, Budget> budgets_;
  std::uint64_t tickets_ = 0;
};

}  // namespace cnimig::agent
