// A pod's uid as PodState keeps it (pod_uid.hpp): a canonical UUID in its 16
// bytes, spelt back the same; any other text kept as it is.

#include "cnimig/migrate/pod_uid.hpp"

#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using cnimig::migrate::PodUid;

BOOST_AUTO_TEST_SUITE(pod_uid)

BOOST_AUTO_TEST_CASE(a_uuid_reads_back_as_it_was_written) {
  const std::string text = "76adbb0c-0ddc-4876-b31a-f306a9419935";
  const PodUid uid(text);
  BOOST_TEST(uid.str() == text);
  BOOST_TEST(uid == text);
  BOOST_TEST(uid == PodUid(text));
  BOOST_TEST(!(uid == "76adbb0c-0ddc-4876-b31a-f306a9419936"));
  BOOST_TEST(!uid.empty());
  BOOST_TEST(sizeof(PodUid) == 24u);  // a std::string of 36 characters: 32 + 48 on the heap
}

BOOST_AUTO_TEST_CASE(other_text_is_kept_as_it_is) {
  for (const char* text : {"uid-web-1", "76ADBB0C-0DDC-4876-B31A-F306A9419935",
                           "00000000-0000-0000-0000-000000000000", "apps/web#3"}) {
    const PodUid uid(text);
    BOOST_TEST(uid.str() == text);
    BOOST_TEST(uid == text);
    PodUid copy = uid;
    BOOST_TEST(copy == uid);
    BOOST_TEST(!(copy == PodUid("uid-other")));
    BOOST_TEST(!(copy == PodUid("76adbb0c-0ddc-4876-b31a-f306a9419935")));
  }
}

BOOST_AUTO_TEST_CASE(empty_is_the_default) {
  const PodUid none;
  BOOST_TEST(none.empty());
  BOOST_TEST(none == "");
  BOOST_TEST(none.str().empty());
  BOOST_TEST(!(none == PodUid("00000000-0000-0000-0000-000000000000")));
}

// The order keys a map: every uid, UUID or other text, is found again and
// no two distinct uids collide.
BOOST_AUTO_TEST_CASE(uids_key_a_map) {
  const std::vector<std::string> texts = {"76adbb0c-0ddc-4876-b31a-f306a9419935",
                                          "76adbb0c-0ddc-4876-b31a-f306a9419936",
                                          "00000000-0000-0000-0000-000000000001",
                                          "uid-web-1",
                                          "76ADBB0C-0DDC-4876-B31A-F306A9419935",
                                          "00000000-0000-0000-0000-000000000000",
                                          ""};
  std::map<PodUid, std::size_t> keyed;
  for (std::size_t i = 0; i < texts.size(); ++i)
    keyed.emplace(PodUid(texts[i]), i);
  BOOST_TEST(keyed.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto found = keyed.find(PodUid(texts[i]));
    BOOST_TEST_REQUIRE((found != keyed.end()));
    BOOST_TEST(found->second == i);
  }
  for (const auto& a : texts) {
    BOOST_TEST(!(PodUid(a) < PodUid(a)));
    for (const auto& b : texts)
      BOOST_TEST(!(PodUid(a) < PodUid(b) && PodUid(b) < PodUid(a)));
  }
  BOOST_TEST(!keyed.contains(PodUid("uid-web-2")));
}

BOOST_AUTO_TEST_SUITE_END()
