#include "cnimig/events/json_lines_writer.hpp"

#include <cstdio>
#include <regex>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "memory_file.hpp"

using namespace cnimig::events;

namespace {

using Capture = cnimig::test::MemoryFile;

std::chrono::system_clock::time_point fixed_time() {
  // 2026-11-25T08:30:00.123Z
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1795595400123));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(json_lines_writer)

BOOST_AUTO_TEST_CASE(line_has_required_fields) {
  Capture out;
  JsonLinesWriter writer(out.file, fixed_time);
  writer.emit(
      Event("node.cordoned").step("roll").node("node-1").duration(std::chrono::milliseconds(42)));
  const auto text = out.text();
  BOOST_TEST_REQUIRE(!text.empty());
  BOOST_TEST(text.back() == '\n');
  BOOST_TEST(std::count(text.begin(), text.end(), '\n') == 1);
  const auto v = boost::json::parse(text).as_object();
  BOOST_TEST(v.at("ts").as_string() == "2026-11-25T08:30:00.123Z");
  BOOST_TEST(v.at("v").as_int64() == kSchemaVersion);
  BOOST_TEST(v.at("event").as_string() == "node.cordoned");
  BOOST_TEST(v.at("step").as_string() == "roll");
  BOOST_TEST(v.at("node").as_string() == "node-1");
  BOOST_TEST(v.at("duration_ms").as_int64() == 42);
}

BOOST_AUTO_TEST_CASE(step_is_null_outside_a_step) {
  JsonLinesWriter writer(stdout, fixed_time);
  const auto v = boost::json::parse(writer.render(Event("migration.started"))).as_object();
  BOOST_TEST(v.at("step").is_null());
}

BOOST_AUTO_TEST_CASE(control_characters_are_escaped_and_line_stays_single) {
  JsonLinesWriter writer(stdout, fixed_time);
  std::string nasty = "line1\nline2\r\t\x01\x1f\"\\ end";
  nasty.push_back('\0');
  nasty += "after-nul";
  const auto line = writer.render(Event("probe.failed").error(nasty).field("stderr", nasty));
  BOOST_TEST(line.find('\n') == std::string::npos);
  BOOST_TEST(line.find('\r') == std::string::npos);
  for (char c : line)
    BOOST_TEST(static_cast<unsigned char>(c) >= 0x20);
  const auto v = boost::json::parse(line).as_object();
  BOOST_TEST(std::string(v.at("error").as_string()) == nasty);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_becomes_replacement_character) {
  JsonLinesWriter writer(stdout, fixed_time);
  const std::string bad =
      std::string("ok \xC3\xA9 bad \xFF \xC0\xAF \xED\xA0\x80 end") + "\xE2\x82";
  const auto line = writer.render(
      Event("api.retry").error(bad).field("nested", boost::json::array{boost::json::string(bad)}));
  const auto v = boost::json::parse(line).as_object();  // Boost.JSON rejects invalid UTF-8
  const std::string err(v.at("error").as_string());
  BOOST_TEST(err.find("\xC3\xA9") != std::string::npos);  // valid é kept
  BOOST_TEST(err.find("\xEF\xBF\xBD") != std::string::npos);
  BOOST_TEST(sanitize_utf8("\xFF") == "\xEF\xBF\xBD");
  BOOST_TEST(sanitize_utf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  BOOST_TEST(sanitize_utf8("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");  // emoji kept
}

BOOST_AUTO_TEST_CASE(reserved_fields_cannot_be_overridden) {
  JsonLinesWriter writer(stdout, fixed_time);
  const auto v =
      boost::json::parse(writer.render(Event("gate.passed").field("event", "spoof").field("v", 99)))
          .as_object();
  BOOST_TEST(v.at("event").as_string() == "gate.passed");
  BOOST_TEST(v.at("v").as_int64() == kSchemaVersion);
}

BOOST_AUTO_TEST_CASE(timestamps_are_rfc3339_utc_milliseconds) {
  const std::regex rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  BOOST_TEST(std::regex_match(format_timestamp(std::chrono::system_clock::now()), rfc3339));
  BOOST_TEST(format_timestamp(std::chrono::system_clock::time_point{}) ==
             "1970-01-01T00:00:00.000Z");
  BOOST_TEST(format_timestamp(fixed_time()) == "2026-11-25T08:30:00.123Z");
}

BOOST_AUTO_TEST_SUITE_END()
