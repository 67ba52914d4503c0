// PodState is held once per pod by the watch cache (170,000 at 5,000 nodes):
// its namespace and owner are interned strings, one pointer each, shared by
// every pod that names them (test/bench/README.md (e)).

#include "cnimig/migrate/interned_string.hpp"

#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/cluster_snapshot.hpp"

using cnimig::migrate::InternedString;
using cnimig::migrate::PodState;

BOOST_AUTO_TEST_SUITE(interned_string)

BOOST_AUTO_TEST_CASE(equal_texts_share_one_string) {
  const InternedString a("apps");
  const InternedString b(std::string("ap") + "ps");
  const InternedString c(std::string_view("kube-system"));
  BOOST_TEST(&a.str() == &b.str());
  BOOST_TEST(a == b);
  BOOST_TEST(!(a == c));
  BOOST_TEST(a == "apps");
  BOOST_TEST(a == std::string("apps"));
  BOOST_TEST(a == std::string_view("apps"));
  BOOST_TEST(std::string("apps") == a);
  BOOST_TEST(a < c);
  BOOST_TEST(a + "/web" == "apps/web");
  BOOST_TEST(c.starts_with("kube-"));
}

BOOST_AUTO_TEST_CASE(empty_is_the_default) {
  const InternedString none;
  BOOST_TEST(none.empty());
  BOOST_TEST(none == InternedString(""));
  BOOST_TEST(none == std::string());
}

// The simulator and the tests build snapshots on several threads.
BOOST_AUTO_TEST_CASE(threads_intern_the_same_text_once) {
  std::vector<const std::string*> seen(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < seen.size(); ++t) {
    threads.emplace_back([&seen, t] {
      for (int i = 0; i < 1000; ++i)
        InternedString("ns-" + std::to_string(i));
      seen[t] = &InternedString("ns-999").str();
    });
  }
  for (auto& t : threads)
    t.join();
  for (const auto* s : seen)
    BOOST_TEST(s == seen.front());
}

// Pinned: with std::string members for namespace, owner kind, owner name
// and uid PodState took 208 bytes, now 128 (pod_uid.hpp keeps the uid; 8 MiB
// less per 100,000 pods before the uid's own allocation). A field added here
// costs its size times every pod of the cluster.
BOOST_AUTO_TEST_CASE(pod_state_stays_small) {
  BOOST_TEST(sizeof(InternedString) == sizeof(void*));
  BOOST_TEST(sizeof(PodState) <= 128u);
  PodState a;
  PodState b;
  a.ns = std::string("apps");
  b.ns = "apps";
  a.owner_name = "api-n9sc8g7mvk";
  b.owner_name = std::string("api-n9sc8g7mvk");
  BOOST_TEST(&a.ns.str() == &b.ns.str());
  BOOST_TEST(&a.owner_name.str() == &b.owner_name.str());
  BOOST_TEST((a == b));
}

BOOST_AUTO_TEST_SUITE_END()
