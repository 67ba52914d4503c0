// The notifier against a test-side datagram socket standing in for systemd.
#include "cnimig/agent/systemd_notifier.hpp"

#include <cstdlib>
#include <cstring>
#include <random>

#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using cnimig::agent::SystemdNotifier;

namespace {

// A bound AF_UNIX datagram socket: filesystem path, or abstract when `abstract`.
struct FakeSystemd {
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::string name;
  FakeSystemd(bool abstract) {
    const auto id = std::to_string(std::random_device{}());
    name = abstract ? "@cnimig-notify-" + id : "/tmp/cnimig-notify-" + id + ".sock";
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (abstract) {
      a.sun_path[0] = '\0';
    } else {
      ++len;
    }
    BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
    timeval tv{5, 0};  // a missing datagram fails the test instead of hanging it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~FakeSystemd() {
    ::close(fd);
    if (name.front() == '/')
      ::unlink(name.c_str());
  }
  std::string receive() {
    char buf[4096];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<std::size_t>(n));
  }
};

struct EnvGuard {
  ~EnvGuard() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(systemd_notifier)

BOOST_AUTO_TEST_CASE(sends_ready_status_watchdog_stopping) {
  for (bool abstract : {false, true}) {
    FakeSystemd systemd(abstract);
    SystemdNotifier n(systemd.name, std::nullopt);
    BOOST_TEST(n.enabled());
    BOOST_TEST(n.ready().has_value());
    BOOST_TEST(systemd.receive() == "READY=1");
    BOOST_TEST(n.status("step roll: node-3\n(2/8)").has_value());
    BOOST_TEST(systemd.receive() == "STATUS=step roll: node-3 (2/8)");
    BOOST_TEST(n.watchdog().has_value());
    BOOST_TEST(systemd.receive() == "WATCHDOG=1");
    BOOST_TEST(n.stopping().has_value());
    BOOST_TEST(systemd.receive() == "STOPPING=1");
  }
}

BOOST_AUTO_TEST_CASE(environment_configures_socket_and_watchdog) {
  EnvGuard guard;
  FakeSystemd systemd(false);
  ::setenv("NOTIFY_SOCKET", systemd.name.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "20000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  auto n = SystemdNotifier::from_environment();
  BOOST_TEST(n.enabled());
  BOOST_TEST_REQUIRE(n.watchdog_interval().has_value());
  BOOST_TEST(n.watchdog_interval()->count() == 10000000);
  BOOST_TEST(n.ready().has_value());
  BOOST_TEST(systemd.receive() == "READY=1");
}

BOOST_AUTO_TEST_CASE(watchdog_for_another_pid_is_ignored) {
  EnvGuard guard;
  ::setenv("NOTIFY_SOCKET", "/tmp/unused.sock", 1);
  ::setenv("WATCHDOG_USEC", "20000000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);
  BOOST_TEST(!SystemdNotifier::from_environment().watchdog_interval().has_value());
}

BOOST_AUTO_TEST_CASE(without_notify_socket_everything_is_a_no_op) {
  EnvGuard guard;
  ::unsetenv("NOTIFY_SOCKET");
  auto n = SystemdNotifier::from_environment();
  BOOST_TEST(!n.enabled());
  BOOST_TEST(n.ready().has_value());
}

BOOST_AUTO_TEST_CASE(unreachable_socket_is_an_error_value) {
  SystemdNotifier n("/tmp/cnimig-no-such-socket.sock", std::nullopt);
  auto r = n.ready();
  BOOST_TEST(r.has_error());
}

BOOST_AUTO_TEST_SUITE_END()
