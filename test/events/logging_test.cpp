#include "cnimig/events/logging.hpp"

#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <spdlog/sinks/ostream_sink.h>

using namespace cnimig::events;

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(json_format_writes_one_object_per_line) {
  std::ostringstream out;
  auto logger = make_logger(LogFormat::json, spdlog::level::info,
                            std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->info("node {} cordoned\nsecond line", "n1");
  logger->debug("filtered out");
  const auto text = out.str();
  BOOST_TEST(std::count(text.begin(), text.end(), '\n') == 1);
  const auto v = boost::json::parse(text).as_object();
  BOOST_TEST(v.at("level").as_string() == "info");
  BOOST_TEST(v.at("msg").as_string() == "node n1 cordoned\nsecond line");
  BOOST_TEST(v.contains("ts"));
}

BOOST_AUTO_TEST_CASE(text_format_has_utc_timestamp_and_level) {
  std::ostringstream out;
  auto logger = make_logger(LogFormat::text, spdlog::level::debug,
                            std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->warn("careful");
  const auto text = out.str();
  BOOST_TEST(text.find("Z warn") != std::string::npos, text);
  BOOST_TEST(text.find("careful") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(flag_values_parse) {
  BOOST_TEST((parse_log_format("json") == LogFormat::json));
  BOOST_TEST(!parse_log_format("xml").has_value());
  BOOST_TEST((parse_log_level("debug") == spdlog::level::debug));
  BOOST_TEST((parse_log_level("error") == spdlog::level::err));
  BOOST_TEST(!parse_log_level("loud").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
