#include "cnimig/config/strategy.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::config;

BOOST_AUTO_TEST_SUITE(strategy)

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (Strategy s : {Strategy::multus, Strategy::cilium_native})
    BOOST_TEST((parse_strategy(to_string(s)) == s));
  BOOST_TEST(to_string(Strategy::cilium_native) == "cilium-native");
  BOOST_TEST(!parse_strategy("native").has_value());
  BOOST_TEST(!parse_strategy("").has_value());
}

BOOST_AUTO_TEST_CASE(cilium_native_has_no_roll_or_priority) {
  for (Step step : kAllSteps)
    BOOST_TEST(has_step(Strategy::multus, step));
  BOOST_TEST(!has_step(Strategy::cilium_native, Step::roll));
  BOOST_TEST(!has_step(Strategy::cilium_native, Step::priority));
  BOOST_TEST(has_step(Strategy::cilium_native, Step::migrate));
}

// A range may span the missing steps (they are skipped) but not start or
// end on one: `--steps roll` would select nothing the strategy does.
BOOST_AUTO_TEST_CASE(steps_naming_a_missing_step_are_refused) {
  const auto native = Strategy::cilium_native;
  BOOST_TEST(steps_refusal(native, {Step::preflight, Step::cleanup}).empty());
  BOOST_TEST(steps_refusal(native, {Step::prepare, Step::migrate}).empty());
  BOOST_TEST(steps_refusal(Strategy::multus, {Step::roll, Step::roll}).empty());
  const auto roll = steps_refusal(native, {Step::roll, Step::roll});
  BOOST_TEST(roll.find("--steps roll: strategy cilium-native has no roll step") == 0u, roll);
  BOOST_TEST(!steps_refusal(native, {Step::prepare, Step::priority}).empty());
  BOOST_TEST(!steps_refusal(native, {Step::priority, Step::cleanup}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
