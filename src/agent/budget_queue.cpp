#include "cnimig/agent/budget_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cnimig::agent {

namespace asio = boost::asio;

bool BudgetQueue::admits(const Budget& b, std::uint64_t ticket, std::uint64_t seen) {
  if (b.version <= seen || b.allowed <= 0)
    return false;
  std::int64_t ahead = 0;
  for (auto it = b.waiters.begin(); it != b.waiters.end() && it->first < ticket; ++it)
    ++ahead;
  return ahead < b.allowed;
}

void BudgetQueue::wake(std::map<std::uint64_t, Waiter>::iterator it) {
  *it->second.woken = true;
  it->second.timer->cancel();
}

asio::awaitable<BudgetQueue::Wake> BudgetQueue::wait(std::string budget, std::uint64_t ticket,
                                                     std::uint64_t seen,
                                                     std::chrono::steady_clock::duration fallback) {
  auto& b = budgets_[budget];
  if (admits(b, ticket, seen))
    co_return Wake::budget;
  asio::steady_timer timer(co_await asio::this_coro::executor, fallback);
  bool woken = false;
  b.waiters[ticket] = Waiter{seen, &timer, &woken};
  // Out of line however the wait ends (the frame may also be destroyed while
  // suspended); a woken waiter was already taken out by changed().
  struct Leave {
    BudgetQueue& queue;
    const std::string& budget;
    std::uint64_t ticket;
    ~Leave() {
      auto it = queue.budgets_.find(budget);
      if (it == queue.budgets_.end())
        return;
      it->second.waiters.erase(ticket);
    }
  } leave{*this, budget, ticket};
  const auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (woken)
    co_return Wake::budget;
  co_return ec == asio::error::operation_aborted ? Wake::cancelled : Wake::fallback;
}

void BudgetQueue::changed(const std::string& budget, std::uint64_t version, std::int64_t allowed) {
  auto& b = budgets_[budget];
  b.version = version;
  b.allowed = allowed;
  // Oldest tickets first; a waiter refused at this version or later stays.
  for (auto it = b.waiters.begin(); it != b.waiters.end() && allowed > 0;) {
    if (it->second.seen < version) {
      wake(it);
      it = b.waiters.erase(it);
      --allowed;
    } else {
      ++it;
    }
  }
}

void BudgetQueue::removed(const std::string& budget) {
  auto it = budgets_.find(budget);
  if (it == budgets_.end())
    return;
  for (auto w = it->second.waiters.begin(); w != it->second.waiters.end(); ++w)
    wake(w);
  budgets_.erase(it);
}

std::size_t BudgetQueue::waiting(const std::string& budget) const {
  auto it = budgets_.find(budget);
  return it == budgets_.end() ? 0 : it->second.waiters.size();
}

}  // namespace cnimig::agent
