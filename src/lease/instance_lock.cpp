#include "cnimig/lease/instance_lock.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace cnimig::lease {

Result<InstanceLock> InstanceLock::acquire(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(Errc::invalid_argument,
                      "cannot open lock file " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      Error e =
          make_error(Errc::conflict, "another agent on this host is migrating this cluster (" +
                                         path.string() + " is locked)");
      e.reason = "LeaseHeld";
      return e;
    }
    return make_error(Errc::invalid_argument,
                      "cannot lock " + path.string() + ": " + std::strerror(err));
  }
  return InstanceLock(fd);
}

std::filesystem::path InstanceLock::path_for(std::string_view server,
                                             std::string_view lease_namespace,
                                             std::string_view lease_name) {
  // FNV-1a: a short stable file name; collisions only make two clusters share a lock.
  std::uint64_t h = 1469598103934665603ULL;
  for (std::string_view part :
       {server, std::string_view("\n"), lease_namespace, std::string_view("/"), lease_name}) {
    for (unsigned char c : part) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string name = "cnimig-agent-";
  for (int shift = 60; shift >= 0; shift -= 4)
    name.push_back(hex[(h >> shift) & 15]);
  name += ".lock";
  const char* dir = std::getenv("XDG_RUNTIME_DIR");
  return std::filesystem::path(dir != nullptr && *dir != '\0' ? dir : "/tmp") / name;
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

InstanceLock& InstanceLock::operator=(InstanceLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

InstanceLock::~InstanceLock() {
  if (fd_ >= 0)
    ::close(fd_);
}

}  // namespace cnimig::lease
