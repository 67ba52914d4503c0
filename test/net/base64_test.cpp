#include "cnimig/net/base64.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::net;

BOOST_AUTO_TEST_SUITE(base64)

// RFC 4648 section 10 test vectors.
BOOST_AUTO_TEST_CASE(rfc4648_vectors_round_trip) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    BOOST_TEST(base64_encode(plain) == encoded);
    auto decoded = base64_decode(encoded);
    BOOST_TEST_REQUIRE(decoded.has_value());
    BOOST_TEST(*decoded == plain);
  }
}

BOOST_AUTO_TEST_CASE(binary_bytes_round_trip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes.push_back(static_cast<char>(i));
  auto decoded = base64_decode(base64_encode(bytes));
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST(*decoded == bytes);
}

BOOST_AUTO_TEST_CASE(whitespace_is_ignored) {
  auto decoded = base64_decode("Zm9v\nYmFy\n");
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST(*decoded == "foobar");
}

BOOST_AUTO_TEST_CASE(malformed_input_is_rejected) {
  BOOST_TEST(base64_decode("Zm9").has_error());    // length
  BOOST_TEST(base64_decode("Zm9*").has_error());   // alphabet
  BOOST_TEST(base64_decode("Z=9v").has_error());   // padding in the middle
  BOOST_TEST(base64_decode("Zg===").has_error());  // too much padding
}

BOOST_AUTO_TEST_SUITE_END()
