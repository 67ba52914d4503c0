#define BOOST_TEST_MODULE support
#include <boost/test/unit_test.hpp>

#include "support/background_process.hpp"
#include "support/process.hpp"
#include <signal.h>

using namespace cnimig::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(run_process_captures_both_streams_and_exit_code) {
  auto r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"});
  BOOST_TEST(r.exit_code == 7);
  BOOST_TEST(r.stdout_text == "out\n");
  BOOST_TEST(r.stderr_text == "err\n");
  BOOST_TEST(!r.timed_out);
}

BOOST_AUTO_TEST_CASE(run_process_passes_env_and_stdin_and_enforces_timeout) {
  auto r = run_process({"/bin/sh", "-c", "read x; echo \"$x $GREETING\""}, {"GREETING=hello"}, 10s,
                       "hi\n");
  BOOST_TEST(r.stdout_text == "hi hello\n");
  auto slow = run_process({"/bin/sh", "-c", "exec sleep 30"}, {}, 200ms);
  BOOST_TEST(slow.timed_out);
  BOOST_TEST(slow.exit_code == 128 + SIGKILL);
}

BOOST_AUTO_TEST_CASE(background_process_waits_for_a_line_then_stops) {
  BackgroundProcess p(
      {"/bin/sh", "-c",
       "echo starting; echo oops >&2; echo '{\"event\":\"sim.ready\"}'; exec sleep 30"});
  auto ready = p.wait_for_line(
      [](const std::string& l) { return l.find("sim.ready") != std::string::npos; }, 10s);
  BOOST_TEST_REQUIRE(ready.has_value());
  BOOST_TEST(p.stdout_lines().front() == "starting");
  BOOST_TEST(p.stop(SIGTERM) == 128 + SIGTERM);
  BOOST_TEST(p.stderr_text() == "oops\n");
}

BOOST_AUTO_TEST_CASE(background_process_reports_eof_without_match) {
  BackgroundProcess p({"/bin/sh", "-c", "echo only"});
  BOOST_TEST(!p.wait_for_line([](const std::string& l) { return l == "never"; }, 10s).has_value());
  BOOST_TEST(p.stop(SIGTERM) == 0);
}
