#include "cnimig/events/progress_line.hpp"

#include <cstdio>
#include <cstdlib>

#include <boost/test/unit_test.hpp>

#include "cnimig/events/logging.hpp"

#include "memory_file.hpp"

using namespace cnimig::events;
using namespace std::chrono_literals;

namespace {

using Capture = cnimig::test::MemoryFile;

ProgressSnapshot roll_snapshot() {
  ProgressSnapshot p;
  p.step = "roll";
  p.nodes_done = 2;
  p.nodes_total = 8;
  p.in_flight = {{"node-3", "draining"}, {"node-4", "cordoned"}};
  p.elapsed = 2min;
  return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(progress_line)

BOOST_AUTO_TEST_CASE(format_shows_counts_nodes_elapsed_and_estimate) {
  BOOST_TEST(format_progress(roll_snapshot()) ==
             "[roll] 2/8 nodes | node-3 draining, node-4 cordoned | 2m elapsed, ~6m left");
  auto start = roll_snapshot();
  start.nodes_done = 0;
  start.in_flight.clear();
  BOOST_TEST(format_progress(start) ==
             "[roll] 0/8 nodes | 2m elapsed");  // no estimate before a node is done
  BOOST_TEST(format_progress(roll_snapshot(), 20).size() == 20u);
}

BOOST_AUTO_TEST_CASE(terminal_keeps_status_below_log_lines) {
  Capture out;
  auto sink = std::make_shared<ProgressLine>(out.file, true);
  auto logger = make_logger(LogFormat::text, spdlog::level::info, sink);
  sink->update(roll_snapshot());
  logger->info("node-3 evicted 4 pods");
  const auto text = out.text();
  const auto status = format_progress(roll_snapshot(), 160);
  // status drawn, then cleared for the log line, then redrawn after it
  const auto first = text.find("\r\x1b[K" + status);
  const auto log = text.find("node-3 evicted 4 pods\n");
  const auto again = text.rfind("\r\x1b[K" + status);
  BOOST_TEST(first != std::string::npos);
  BOOST_TEST(log != std::string::npos);
  BOOST_TEST((first < log && log < again));
  sink->clear_status();
  BOOST_TEST(out.text().ends_with("\r\x1b[K"));
}

BOOST_AUTO_TEST_CASE(off_terminal_there_is_no_status_line) {
  Capture out;
  auto sink = std::make_shared<ProgressLine>(out.file, false);
  auto logger = make_logger(LogFormat::text, spdlog::level::info, sink);
  sink->update(roll_snapshot());
  logger->info("plain");
  const auto text = out.text();
  BOOST_TEST(text.find('\r') == std::string::npos);
  BOOST_TEST(text.find("\x1b") == std::string::npos);
  BOOST_TEST(text.find("plain\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
