#include "cnimig/common/exception_message.hpp"

#include <stdexcept>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(exception_message_test)

BOOST_AUTO_TEST_CASE(a_standard_exception_gives_its_what) {
  const auto e = std::make_exception_ptr(std::runtime_error("watch stream ended"));
  BOOST_TEST(cnimig::exception_message(e) == "watch stream ended");
}

BOOST_AUTO_TEST_CASE(any_other_exception_gives_a_fixed_text_instead_of_escaping) {
  const auto e = std::make_exception_ptr(42);
  BOOST_TEST(cnimig::exception_message(e) == "an exception not derived from std::exception");
}

BOOST_AUTO_TEST_SUITE_END()
