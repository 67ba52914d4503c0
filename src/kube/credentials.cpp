#include "cnimig/kube/credentials.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cnimig::kube {

Credentials::Credentials(const ClientConfig& config)
    : token_(config.token), token_file_(config.token_file), exec_(config.exec) {}

boost::asio::awaitable<Result<std::string>> Credentials::authorization() {
  if (!token_.empty())
    co_return "Bearer " + token_;
  if (!token_file_.empty()) {
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(token_file_, ec);
    if (ec)
      co_return make_error(Errc::unauthorized,
                           "tokenFile " + token_file_.string() + ": cannot stat");
    if (!token_file_mtime_ || *token_file_mtime_ != mtime || file_token_.empty()) {
      std::ifstream in(token_file_, std::ios::binary);
      if (!in)
        co_return make_error(Errc::unauthorized,
                             "tokenFile " + token_file_.string() + ": cannot read");
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string t = ss.str();
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' '))
        t.pop_back();
      if (t.empty())
        co_return make_error(Errc::unauthorized, "tokenFile " + token_file_.string() + ": empty");
      file_token_ = std::move(t);
      token_file_mtime_ = mtime;
    }
    co_return "Bearer " + file_token_;
  }
  if (exec_) {
    // Renew slightly before expiry so a request never carries a token that
    // expires in flight.
    auto now = std::chrono::system_clock::now();
    if (exec_cached_ && exec_cached_->expiration &&
        *exec_cached_->expiration <= now + std::chrono::seconds(10))
      exec_cached_.reset();
    // Single flight: requests arriving while the plugin runs wait for its answer.
    while (exec_running_) {
      auto done = exec_done_;  // keeps the timer alive while this waiter sleeps
      auto [ec] = co_await done->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      (void)ec;
    }
    if (!exec_cached_) {
      exec_done_ = std::make_shared<boost::asio::steady_timer>(
          co_await boost::asio::this_coro::executor, std::chrono::steady_clock::time_point::max());
      exec_running_ = true;
      // Waiters must wake even if this run is cancelled or throws.
      struct EndOfRun {
        Credentials& self;
        ~EndOfRun() {
          self.exec_running_ = false;
          if (auto done = std::move(self.exec_done_))
            done->cancel();
        }
      };
      std::optional<EndOfRun> end_of_run;
      end_of_run.emplace(*this);
      auto cred = co_await run_exec_plugin(*exec_, kExecPluginTimeout);
      end_of_run.reset();
      if (!cred)
        co_return cred.error();
      exec_cached_ = std::move(*cred);
    }
    co_return "Bearer " + exec_cached_->token;
  }
  co_return std::string{};
}

bool Credentials::invalidate() {
  if (!token_.empty())
    return false;
  if (!token_file_.empty()) {
    token_file_mtime_.reset();
    file_token_.clear();
    return true;
  }
  if (exec_) {
    exec_cached_.reset();
    return true;
  }
  return false;
}

}  // namespace cnimig::kube
