#pragma once
// One agent per cluster per host. The Lease's holder identity is stable per
// host (so a restarted agent takes its own Lease back at once), which means
// the Lease alone cannot tell two agents on the same host apart: this
// advisory flock(2) on a file named after the cluster and the Lease does.
// The kernel drops it when the process dies, SIGKILL included, so it never
// needs cleaning up.

#include <filesystem>
#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"

namespace cnimig::lease {

class InstanceLock {
 public:
  // Fails (Errc::conflict, reason "LeaseHeld") when another process holds it.
  static Result<InstanceLock> acquire(const std::filesystem::path& path);
  // $XDG_RUNTIME_DIR (else /tmp)/cnimig-agent-<hash of server and Lease>.lock
  static std::filesystem::path path_for(std::string_view server, std::string_view lease_namespace,
                                        std::string_view lease_name);

  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&& other) noexcept;
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cnimig::lease
