#include "cnimig/config/kubernetes_names.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::config;

BOOST_AUTO_TEST_SUITE(kubernetes_names)

BOOST_AUTO_TEST_CASE(qualified_names) {
  for (const char* ok :
       {"rolled", "node-role.kubernetes.io/rolled", "a/b", "example.com/A_b.c-9", "x"}) {
    BOOST_TEST(check_qualified_name(ok).empty(), ok);
  }
  for (const char* bad :
       {"", "/x", "a/", "a/b/c", "-a", "a-", "UPPER.com/x", "a b", "a..b/x", "a/_x"}) {
    BOOST_TEST(!check_qualified_name(bad).empty(), bad);
  }
  BOOST_TEST(check_qualified_name(std::string(63, 'a')).empty());
  BOOST_TEST(!check_qualified_name(std::string(64, 'a')).empty());
  BOOST_TEST(!check_qualified_name(std::string(254, 'a') + "/x").empty());
}

BOOST_AUTO_TEST_CASE(label_values) {
  for (const char* ok : {"", "true", "A.b_c-9"})
    BOOST_TEST(check_label_value(ok).empty(), ok);
  for (const char* bad : {"-a", "a-", "a b", "a/b"})
    BOOST_TEST(!check_label_value(bad).empty(), bad);
  BOOST_TEST(!check_label_value(std::string(64, 'a')).empty());
}

BOOST_AUTO_TEST_CASE(dns_names) {
  BOOST_TEST(check_dns1123_label("kube-system").empty());
  BOOST_TEST(!check_dns1123_label("kube.system").empty());
  BOOST_TEST(!check_dns1123_label("Kube").empty());
  BOOST_TEST(check_dns1123_subdomain("kube-multus.calico").empty());
  BOOST_TEST(!check_dns1123_subdomain("a..b").empty());
  BOOST_TEST(!check_dns1123_subdomain("").empty());
}

BOOST_AUTO_TEST_SUITE_END()
