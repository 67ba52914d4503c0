#pragma once
// A counting semaphore for coroutines: at most `slots` permits out at once,
// waiters served in arrival order.
//
// Built on an Asio channel whose buffer holds one token per permit out:
// acquiring sends a token (suspending while the buffer is full), releasing
// receives one, which moves the oldest suspended sender's token into the
// buffer and resumes it. A waiter cancelled through its cancellation slot
// (the losing side of `||`, a signal) leaves the channel's queue without a
// token, so cancellation cannot leak a slot; a Permit gives its slot back when
// destroyed, on every path, exceptions included.
//
// Not thread-safe: use it from the one thread that runs its executor (as
// kube::Client is used).

#include <cstddef>
#include <optional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/channel.hpp>

#include "cnimig/common/result.hpp"

namespace cnimig {

class AsyncSemaphore {
 public:
  // One slot held; returned when destroyed or reset().
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Permit& operator=(Permit&& other) noexcept {
      if (this != &other) {
        reset();
        owner_ = std::exchange(other.owner_, nullptr);
      }
      return *this;
    }
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { reset(); }

    void reset() noexcept;
    explicit operator bool() const noexcept { return owner_ != nullptr; }

   private:
    friend class AsyncSemaphore;
    explicit Permit(AsyncSemaphore* owner) : owner_(owner) {}
    AsyncSemaphore* owner_ = nullptr;
  };

  // `slots` >= 1 (0 is taken as 1: a semaphore nobody can pass is a hang).
  AsyncSemaphore(boost::asio::any_io_executor executor, std::size_t slots);
  AsyncSemaphore(const AsyncSemaphore&) = delete;
  AsyncSemaphore& operator=(const AsyncSemaphore&) = delete;

  // Waits for a slot. Errc::cancelled when the wait was cancelled (no slot
  // is taken then).
  boost::asio::awaitable<Result<Permit>> acquire();
  // A slot if one is free now.
  std::optional<Permit> try_acquire();

  std::size_t slots() const noexcept { return slots_; }
  std::size_t in_use() const noexcept { return in_use_; }
  std::size_t waiting() const noexcept { return waiting_; }

 private:
  void release() noexcept;

  std::size_t slots_;
  std::size_t in_use_ = 0;
  std::size_t waiting_ = 0;
  boost::asio::experimental::channel<void(boost::system::error_code)> tokens_;
};

}  // namespace cnimig
