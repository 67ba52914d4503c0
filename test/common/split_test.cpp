#include "cnimig/common/split.hpp"

#include <string_view>
#include <vector>

#include <boost/test/unit_test.hpp>

using namespace std::literals;
using Fields = std::vector<std::string_view>;

BOOST_AUTO_TEST_SUITE(split_test)

BOOST_AUTO_TEST_CASE(split_keeps_empty_fields) {
  BOOST_TEST(cnimig::split("a,b", ',') == (Fields{"a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(cnimig::split("a,,b,", ',') == (Fields{"a", "", "b", ""}),
             boost::test_tools::per_element());
  BOOST_TEST(cnimig::split("", ',') == (Fields{""}), boost::test_tools::per_element());
  BOOST_TEST(cnimig::split("abc", ',') == (Fields{"abc"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(trim_removes_spaces_and_tabs_at_both_ends) {
  BOOST_TEST(cnimig::trim("  v5.channel.k8s.io\t") == "v5.channel.k8s.io"sv);
  BOOST_TEST(cnimig::trim(" a b ") == "a b"sv);
  BOOST_TEST(cnimig::trim("   ").empty());
  BOOST_TEST(cnimig::trim("").empty());
}

BOOST_AUTO_TEST_CASE(split_once_at_the_first_separator) {
  const auto [ns, name] = cnimig::split_once("kube-system/cilium-x/y", '/');
  BOOST_TEST(ns == "kube-system"sv);
  BOOST_TEST(name == "cilium-x/y"sv);
  const auto [whole, none] = cnimig::split_once("node-1", '/');
  BOOST_TEST(whole == "node-1"sv);
  BOOST_TEST(none.empty());
}

BOOST_AUTO_TEST_SUITE_END()
