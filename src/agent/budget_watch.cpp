#include "cnimig/agent/budget_watch.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/wire/object_fields.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;

// resourceVersion as a number (the API server's and cnimig-sim's are
// increasing integers); 0 when it is not one, which no waiter's `seen` is
// older than, so such a budget wakes nobody and waiters use their timers.
std::uint64_t version_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

}  // namespace

BudgetWatch::BudgetWatch(kube::Client& client)
    : informer_(client, kube::ResourcePath::of("policy", "v1", "poddisruptionbudgets"),
                [](const boost::json::object& pdb) { return project(pdb); }) {
  informer_.on_change([this](const std::string& key, const Budget*, const Budget* now) {
    if (now == nullptr) {
      queue_.removed(key);
      return;
    }
    version_ = std::max(version_, now->version);
    queue_.changed(key, now->version, now->allowed);
  });
}

BudgetWatch::Budget BudgetWatch::project(const boost::json::object& pdb) {
  Budget b;
  b.version = version_number(wire::resource_version(pdb));
  if (const auto* status = wire::obj(pdb, "status")) {
    if (const auto* allowed = status->if_contains("disruptionsAllowed");
        allowed != nullptr && allowed->is_int64())
      b.allowed = allowed->as_int64();
  }
  // A selector the API server would not have accepted selects nothing.
  if (const auto* selector = wire::obj(wire::spec(pdb), "selector")) {
    if (auto parsed = wire::LabelSelector::from_json(*selector))
      b.selector = std::move(*parsed);
  }
  return b;
}

asio::awaitable<void> BudgetWatch::run() {
  auto ended = co_await informer_.run();
  if (!ended && ended.error().code != Errc::cancelled)
    spdlog::warn("watch poddisruptionbudgets: {}; blocked evictions retry on a timer",
                 ended.error().describe());
  // Stays until cancelled: it runs beside the migration, whose end ends it.
  asio::steady_timer idle(co_await asio::this_coro::executor,
                          std::chrono::steady_clock::time_point::max());
  co_await idle.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<bool> BudgetWatch::wait_synced(std::chrono::steady_clock::duration timeout) {
  std::function<bool(const kube::Informer<Budget>&)> listed = [](const auto& i) {
    return i.synced();
  };
  co_return co_await informer_.wait_until(listed, timeout);
}

std::string BudgetWatch::selecting(const std::string& ns, const boost::json::object* labels) const {
  std::string found;
  informer_.for_each([&](const std::string& key, const Budget& b) {
    if (found.empty() && b.selector && key.starts_with(ns + "/") && b.selector->matches(labels))
      found = key;
  });
  return found;
}

}  // namespace cnimig::agent
