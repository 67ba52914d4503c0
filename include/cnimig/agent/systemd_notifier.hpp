#pragma once
// systemd's notify protocol (sd_notify(3)), spoken directly: one datagram of
// newline-separated KEY=VALUE assignments to the AF_UNIX socket named by
// $NOTIFY_SOCKET (a leading '@' means the abstract namespace). With
// Type=notify the unit is "started" at READY=1, `systemctl status` shows
// STATUS=, and WATCHDOG=1 must arrive within $WATCHDOG_USEC or systemd
// restarts the unit. Outside systemd every call is a no-op.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"

namespace cnimig::agent {

class SystemdNotifier {
 public:
  // Disabled notifier.
  SystemdNotifier() = default;
  SystemdNotifier(std::string socket_path, std::optional<std::chrono::microseconds> watchdog);

  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the watchdog applies
  // only when WATCHDOG_PID is unset or names this process).
  static SystemdNotifier from_environment();

  bool enabled() const noexcept { return !socket_path_.empty(); }
  // How often to send WATCHDOG=1: half the timeout systemd enforces, as sd_watchdog_enabled(3)
  // advises.
  std::optional<std::chrono::microseconds> watchdog_interval() const noexcept;

  Result<void> ready() { return notify("READY=1"); }
  Result<void> status(std::string_view text);  // newlines are flattened: STATUS is one line
  Result<void> watchdog() { return notify("WATCHDOG=1"); }
  Result<void> stopping() { return notify("STOPPING=1"); }

  // Sends `state` as is. Errors are values: losing a status line must never stop a migration.
  Result<void> notify(std::string_view state) const;

 private:
  std::string socket_path_;
  std::optional<std::chrono::microseconds> watchdog_;
};

}  // namespace cnimig::agent
