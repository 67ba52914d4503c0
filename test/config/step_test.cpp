#include "cnimig/config/step.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::config;

BOOST_AUTO_TEST_SUITE(step)

BOOST_AUTO_TEST_CASE(names_and_numbers) {
  for (Step s : kAllSteps) {
    BOOST_TEST((parse_step(to_string(s)) == s));
    BOOST_TEST((parse_step(std::to_string(static_cast<int>(s))) == s));
  }
  BOOST_TEST(!parse_step("6").has_value());
  BOOST_TEST(!parse_step("rolls").has_value());
  BOOST_TEST(!parse_step("").has_value());
}

BOOST_AUTO_TEST_CASE(ranges) {
  BOOST_TEST((parse_step_range("0-5") == StepRange{Step::preflight, Step::cleanup}));
  BOOST_TEST((parse_step_range("migrate") == StepRange{Step::migrate, Step::migrate}));
  BOOST_TEST((parse_step_range("roll-cleanup") == StepRange{Step::roll, Step::cleanup}));
  BOOST_TEST((parse_step_range("2-priority") == StepRange{Step::roll, Step::priority}));
  BOOST_TEST(!parse_step_range("4-2").has_value());
  BOOST_TEST(!parse_step_range("1-").has_value());
  BOOST_TEST(!parse_step_range("-1").has_value());
  BOOST_TEST(!parse_step_range("1-9").has_value());
  auto r = parse_step_range("2-4").value();
  BOOST_TEST(!r.contains(Step::prepare));
  BOOST_TEST(r.contains(Step::roll));
  BOOST_TEST(r.contains(Step::migrate));
  BOOST_TEST(!r.contains(Step::cleanup));
}

BOOST_AUTO_TEST_SUITE_END()
