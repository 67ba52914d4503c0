// The API server's clock from Date headers: bounds, narrowing, steps, drift.

#define BOOST_TEST_MODULE kube_server_clock
#include "cnimig/kube/server_clock.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::kube;
using namespace std::chrono;
using steady = ServerClock::steady;

namespace {

// Local steady time t0 + ms.
steady::time_point local(std::int64_t ms) {
  return steady::time_point(seconds(5000)) + milliseconds(ms);
}

// Server clock = local + 1,000,000,000.25 s (so the server's seconds tick at
// local x.750).
constexpr std::int64_t kOffsetMs = 1'000'000'000'250;

sys_seconds server_date_at(std::int64_t local_ms) {
  const auto server_ms =
      duration_cast<milliseconds>(local(local_ms).time_since_epoch()).count() + kOffsetMs;
  return sys_seconds(seconds(server_ms / 1000));
}

std::int64_t ms(ServerClock::sys::time_point t) {
  return duration_cast<milliseconds>(t.time_since_epoch()).count();
}

std::int64_t true_server_ms(std::int64_t local_ms) {
  return duration_cast<milliseconds>(local(local_ms).time_since_epoch()).count() + kOffsetMs;
}

}  // namespace

BOOST_AUTO_TEST_CASE(unknown_until_a_response) {
  ServerClock c;
  BOOST_TEST(!c.known());
  BOOST_TEST(!c.earliest(local(0)).has_value());
  BOOST_TEST(!c.when_reached(ServerClock::sys::time_point{}).has_value());
}

BOOST_AUTO_TEST_CASE(earliest_never_runs_ahead_of_the_server) {
  ServerClock c;
  // Requests every 130 ms with a 10 ms round trip.
  for (std::int64_t t = 0; t < 5000; t += 130) {
    c.observe(server_date_at(t + 5), local(t), local(t + 10));
    const auto now = t + 10;
    const auto e = ms(*c.earliest(local(now)));
    BOOST_TEST(e <= true_server_ms(now));
  }
  // After samples at many sub-second phases the bound is about a round trip.
  BOOST_TEST(duration_cast<milliseconds>(*c.uncertainty(local(5000))).count() <= 150);
  BOOST_TEST(true_server_ms(5000) - ms(*c.earliest(local(5000))) <= 150);
}

BOOST_AUTO_TEST_CASE(when_reached_is_when_earliest_gets_there) {
  ServerClock c;
  for (std::int64_t t = 0; t < 3000; t += 170)
    c.observe(server_date_at(t + 2), local(t), local(t + 4));
  const auto target =
      ServerClock::sys::time_point(milliseconds(true_server_ms(3000) / 1000 * 1000 + 1000));
  const auto at = *c.when_reached(target);
  BOOST_TEST(ms(*c.earliest(at)) >= ms(target));
  // ... and not much later than the server really gets there.
  const auto late = duration_cast<milliseconds>(at - local(0)).count();
  BOOST_TEST(true_server_ms(late) - ms(target) <= 200);
}

BOOST_AUTO_TEST_CASE(a_stepped_server_clock_starts_over) {
  ServerClock c;
  for (std::int64_t t = 0; t < 2000; t += 100)
    c.observe(server_date_at(t), local(t), local(t + 2));
  // The server's clock jumps back an hour.
  const auto back = server_date_at(2100) - hours(1);
  c.observe(back, local(2100), local(2102));
  const auto e = ms(*c.earliest(local(2102)));
  BOOST_TEST(e <= ms(back) + 1000);
  BOOST_TEST(e >= ms(back) - 100);
}

BOOST_AUTO_TEST_CASE(old_bounds_widen_with_drift) {
  ServerClock c;
  c.observe(server_date_at(0), local(0), local(1));
  const auto w0 = *c.uncertainty(local(1));
  const auto w1 = *c.uncertainty(local(1 + 3'600'000));
  BOOST_TEST(duration_cast<milliseconds>(w1 - w0).count() >= 3000);  // 2 x 500 ppm of an hour
}
