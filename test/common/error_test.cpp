#define BOOST_TEST_MODULE common
#include <boost/test/unit_test.hpp>

#include "cnimig/common/result.hpp"

using namespace cnimig;

namespace {
Result<int> parse_positive(int v) {
  if (v <= 0)
    return make_error(Errc::invalid_argument, "must be positive");
  return v;
}
}  // namespace

BOOST_AUTO_TEST_CASE(result_carries_value_or_error) {
  auto ok = parse_positive(3);
  BOOST_TEST(ok.has_value());
  BOOST_TEST(*ok == 3);

  auto bad = parse_positive(0);
  BOOST_TEST(bad.has_error());
  BOOST_TEST((bad.error().code == Errc::invalid_argument));
  BOOST_TEST(bad.error().describe() == "invalid argument: must be positive");
}

BOOST_AUTO_TEST_CASE(value_on_error_throws_error_exception) {
  auto bad = parse_positive(-1);
  BOOST_CHECK_EXCEPTION(bad.value(), ErrorException, [](const ErrorException& e) {
    return e.error().code == Errc::invalid_argument;
  });
}

BOOST_AUTO_TEST_CASE(retryable_only_for_transient_failures) {
  BOOST_TEST(make_error(Errc::too_many_requests, "").retryable());
  BOOST_TEST(make_error(Errc::server_error, "").retryable());
  BOOST_TEST(make_error(Errc::transport, "").retryable());
  BOOST_TEST(!make_error(Errc::conflict, "").retryable());
  BOOST_TEST(!make_error(Errc::not_found, "").retryable());
  BOOST_TEST(!make_error(Errc::forbidden, "").retryable());
}
