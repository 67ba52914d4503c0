#include "cnimig/net/base64.hpp"

#include <algorithm>
#include <cctype>

#include <openssl/evp.h>

namespace cnimig::net {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c)))
      compact.push_back(c);
  }
  if (compact.size() % 4 != 0) {
    return make_error(Errc::invalid_argument, "base64: length is not a multiple of 4");
  }
  const auto valid = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  };
  // Padding may only appear as the last one or two characters.
  std::size_t padding = 0;
  while (padding < 2 && padding < compact.size() && compact[compact.size() - 1 - padding] == '=') {
    ++padding;
  }
  if (!std::all_of(compact.begin(), compact.end() - static_cast<std::ptrdiff_t>(padding), valid)) {
    return make_error(Errc::invalid_argument, "base64: invalid character");
  }
  std::string out(3 * compact.size() / 4, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(compact.data()),
                                      static_cast<int>(compact.size()));
  if (written < 0)
    return make_error(Errc::invalid_argument, "base64: malformed input");
  // EVP_DecodeBlock decodes padding as zero bytes; drop them.
  out.resize(static_cast<std::size_t>(written) - padding);
  return out;
}

}  // namespace cnimig::net
