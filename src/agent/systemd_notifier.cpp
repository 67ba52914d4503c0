#include "cnimig/agent/systemd_notifier.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace cnimig::agent {

SystemdNotifier::SystemdNotifier(std::string socket_path,
                                 std::optional<std::chrono::microseconds> watchdog)
    : socket_path_(std::move(socket_path)), watchdog_(watchdog) {}

SystemdNotifier SystemdNotifier::from_environment() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (socket == nullptr || *socket == '\0')
    return {};
  std::optional<std::chrono::microseconds> watchdog;
  if (const char* usec = std::getenv("WATCHDOG_USEC"); usec != nullptr) {
    std::uint64_t value = 0;
    const std::string_view text(usec);
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    bool ours = true;
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid != nullptr) {
      ours = std::string_view(pid) == std::to_string(::getpid());
    }
    if (ec == std::errc{} && end == text.data() + text.size() && value > 0 && ours) {
      watchdog = std::chrono::microseconds(value);
    }
  }
  return SystemdNotifier(socket, watchdog);
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_interval() const noexcept {
  if (!watchdog_)
    return std::nullopt;
  return *watchdog_ / 2;
}

Result<void> SystemdNotifier::status(std::string_view text) {
  std::string line = "STATUS=";
  for (char c : text)
    line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return notify(line);
}

Result<void> SystemdNotifier::notify(std::string_view state) const {
  if (!enabled())
    return {};
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(address.sun_path)) {
    return make_error(Errc::invalid_argument, "NOTIFY_SOCKET path is too long");
  }
  std::memcpy(address.sun_path, socket_path_.data(), socket_path_.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  if (socket_path_.front() == '@') {
    address.sun_path[0] = '\0';  // abstract namespace: no trailing NUL in the length
  } else {
    length += 1;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return make_error(Errc::transport, std::string("notify socket: ") + std::strerror(errno));
  const auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                             reinterpret_cast<sockaddr*>(&address), length);
  const int saved = errno;
  ::close(fd);
  if (sent < 0 || static_cast<std::size_t>(sent) != state.size()) {
    return make_error(Errc::transport,
                      std::string("sd_notify to ") + socket_path_ + ": " + std::strerror(saved));
  }
  return {};
}

}  // namespace cnimig::agent
