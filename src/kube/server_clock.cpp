#include "cnimig/kube/server_clock.hpp"

namespace cnimig::kube {
namespace {

using std::chrono::nanoseconds;

// NTP slews a clock by at most 500 ppm: bounds older than a sample widen by
// that much per unit of age so they stay true while the clocks drift apart.
nanoseconds drift(ServerClock::steady::duration age) {
  return std::chrono::duration_cast<nanoseconds>(age) / 2000;
}

nanoseconds since_epoch(ServerClock::steady::time_point t) {
  return std::chrono::duration_cast<nanoseconds>(t.time_since_epoch());
}

}  // namespace

nanoseconds ServerClock::lower(steady::time_point now) const {
  return lo_->offset - drift(now - lo_->at);
}

nanoseconds ServerClock::upper(steady::time_point now) const {
  return hi_->offset + drift(now - hi_->at);
}

void ServerClock::observe(std::chrono::sys_seconds date, steady::time_point sent,
                          steady::time_point received) {
  const auto server = std::chrono::duration_cast<nanoseconds>(date.time_since_epoch());
  const Bound lo{server - since_epoch(received), received};
  const Bound hi{server + std::chrono::seconds(1) - since_epoch(sent), received};
  if (!lo_ || lo.offset > upper(received) || hi.offset < lower(received)) {
    // First sample, or one the bounds cannot explain: the server's clock was
    // stepped. Start over from this response.
    lo_ = lo;
    hi_ = hi;
    return;
  }
  if (lo.offset > lower(received))
    lo_ = lo;
  if (hi.offset < upper(received))
    hi_ = hi;
}

std::optional<ServerClock::sys::time_point> ServerClock::earliest(steady::time_point now) const {
  if (!lo_)
    return std::nullopt;
  const auto server = since_epoch(now) + lower(now);
  return sys::time_point(std::chrono::duration_cast<sys::duration>(server));
}

std::optional<ServerClock::steady::time_point> ServerClock::when_reached(sys::time_point t) const {
  if (!lo_)
    return std::nullopt;
  // earliest(x) = x + lo - drift(x - lo.at) >= t; solve without drift, then
  // pad by the drift over that span (the span is short: seconds).
  const auto target = std::chrono::duration_cast<nanoseconds>(t.time_since_epoch());
  auto local = target - lo_->offset;
  const auto age = local - since_epoch(lo_->at);
  if (age > nanoseconds::zero())
    local += drift(age) * 2;
  return steady::time_point(std::chrono::duration_cast<steady::duration>(local));
}

std::optional<nanoseconds> ServerClock::uncertainty(steady::time_point now) const {
  if (!lo_)
    return std::nullopt;
  return upper(now) - lower(now);
}

}  // namespace cnimig::kube
