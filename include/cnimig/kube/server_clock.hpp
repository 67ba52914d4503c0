#pragma once
// The API server's clock as seen through its responses' `Date` header
// (RFC 9110 section 6.6.1: every origin server with a clock sends it; the
// kube-apiserver's Go net/http does). The agent compares the server's own
// timestamps (a pod's metadata.creationTimestamp) with "now", so "now" must be
// the server's, not this machine's: the two clocks may be seconds apart.
//
// A Date header has one-second resolution and was produced somewhere between
// sending the request and receiving the answer, so each response bounds the
// offset (server time minus local steady time) from both sides:
//   date - received  <=  offset  <  date + 1 s - sent.
// Bounds from many responses narrow it to about a round trip. The clocks may
// drift apart (NTP slews up to 500 ppm), so older bounds widen with age; a
// sample that contradicts them (the server's clock was stepped) starts over.

#include <chrono>
#include <optional>

namespace cnimig::kube {

class ServerClock {
 public:
  using steady = std::chrono::steady_clock;
  using sys = std::chrono::system_clock;

  // One response: its Date header, the local time the request was sent (or
  // its attempt began) and the local time the answer arrived.
  void observe(std::chrono::sys_seconds date, steady::time_point sent, steady::time_point received);

  bool known() const noexcept { return lo_.has_value(); }

  // A time the server's clock has certainly reached at local time `now`
  // (nullopt before the first response with a Date header).
  std::optional<sys::time_point> earliest(steady::time_point now) const;

  // The local time at which the server's clock will certainly have reached `t`.
  std::optional<steady::time_point> when_reached(sys::time_point t) const;

  // The width of the offset's bounds: how uncertain earliest() is.
  std::optional<std::chrono::nanoseconds> uncertainty(steady::time_point now) const;

 private:
  struct Bound {
    std::chrono::nanoseconds offset;  // server (since the Unix epoch) minus steady
    steady::time_point at;            // when it was observed
  };
  std::chrono::nanoseconds lower(steady::time_point now) const;
  std::chrono::nanoseconds upper(steady::time_point now) const;

  std::optional<Bound> lo_;
  std::optional<Bound> hi_;
};

}  // namespace cnimig::kube
