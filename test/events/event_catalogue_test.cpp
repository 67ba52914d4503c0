#include "cnimig/events/event_catalogue.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/events/json_lines_writer.hpp"

using namespace cnimig::events;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The README's event table: the lines from its header row to the first line
// that is not a table row.
std::string readme_event_table() {
  const auto readme = read_file(CNIMIG_SOURCE_DIR "/README.md");
  const auto begin = readme.find("| event | when | fields |");
  if (begin == std::string::npos)
    return {};
  auto end = begin;
  while (end < readme.size() && readme[end] == '|') {
    end = readme.find('\n', end);
    if (end == std::string::npos)
      return readme.substr(begin);
    ++end;
  }
  return readme.substr(begin, end - begin);
}

boost::json::object good_line() {
  return boost::json::parse(R"({"ts":"2026-11-25T08:30:00.123Z","v":1,"event":"node.cordoned",
      "step":"roll","node":"node-1","action":"node-1: cordon","duration_ms":3})")
      .as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_catalogue)

BOOST_AUTO_TEST_CASE(readme_table_is_the_catalogue) {
  const auto expected = render_event_table();
  const auto actual = readme_event_table();
  BOOST_TEST(actual == expected,
             "README.md's event table differs from kEventCatalogue; the catalogue renders as:\n"
                 << expected);
}

BOOST_AUTO_TEST_CASE(names_are_unique_and_fields_well_formed) {
  std::set<std::string_view> names;
  for (const auto& e : kEventCatalogue) {
    BOOST_TEST(names.insert(e.name).second, e.name << " listed twice");
    BOOST_TEST(e.name.find('.') != std::string_view::npos, e.name << " is not dotted");
    BOOST_TEST(!e.when.empty());
    std::set<std::string_view> fields;
    for (const auto& f : e.fields) {
      if (f.name.empty())
        continue;
      BOOST_TEST(fields.insert(f.name).second, e.name << ": " << f.name << " twice");
      for (const auto& common : kCommonFields)
        BOOST_TEST(f.name != common.name, e.name << " redefines " << f.name);
    }
  }
  static_assert(in_catalogue(catalogued("migration.interrupted")));
  static_assert(find_event("no.such.event") == nullptr);
}

BOOST_AUTO_TEST_CASE(a_conforming_line_has_no_violations) {
  BOOST_TEST(contract_violations(good_line()).empty());
  auto optional_absent = boost::json::parse(
                             R"({"ts":"2026-11-25T08:30:00.123Z","v":1,"event":"gate.waiting",
      "step":null,"gate":"connectivity-check"})")
                             .as_object();
  BOOST_TEST(contract_violations(optional_absent).empty());
}

BOOST_AUTO_TEST_CASE(each_breach_is_reported) {
  auto expect_one = [](boost::json::object line, const std::string& fragment) {
    const auto problems = contract_violations(line);
    BOOST_TEST_REQUIRE(problems.size() == 1u, fragment);
    BOOST_TEST(problems[0].find(fragment) != std::string::npos, problems[0]);
  };
  auto l = good_line();
  l["v"] = 2;
  expect_one(l, "v is 2");
  l = good_line();
  l["ts"] = "2026-11-25T08:30:00Z";
  expect_one(l, "ts is not RFC 3339");
  l = good_line();
  l["ts"] = "2026-11-25T08:30:00.123+01:00";
  expect_one(l, "ts is not RFC 3339");
  l = good_line();
  l["event"] = "node.exploded";
  expect_one(l, "not in the catalogue");
  l = good_line();
  l.erase("node");
  expect_one(l, "missing field node");
  l = good_line();
  l.erase("step");
  expect_one(l, "missing field step");
  l = good_line();
  l["duration_ms"] = "3";
  expect_one(l, "duration_ms is not of type integer");
  l = good_line();
  l["step"] = 4;
  expect_one(l, "step is not of type string or null");
  l = good_line();
  l["surprise"] = true;
  expect_one(l, "surprise is not in the catalogue");
}

BOOST_AUTO_TEST_CASE(the_writer_produces_conforming_lines) {
  JsonLinesWriter writer(nullptr);
  const auto line = writer.render(
      Event(catalogued("step.completed")).step("roll").duration(std::chrono::milliseconds(1234)));
  const auto problems = contract_violations(boost::json::parse(line).as_object());
  BOOST_TEST(problems.empty(), line);
}

BOOST_AUTO_TEST_SUITE_END()
