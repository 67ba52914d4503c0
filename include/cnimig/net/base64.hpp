#pragma once
// Standard base64 (RFC 4648, with padding) through OpenSSL's EVP encoder:
// kubeconfig's *-data fields, Secret data and the WebSocket handshake use it.

#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"

namespace cnimig::net {

std::string base64_encode(std::string_view bytes);

// Rejects characters outside the alphabet and lengths that are not a multiple
// of four once whitespace (kubeconfigs wrap long values) is removed.
Result<std::string> base64_decode(std::string_view text);

}  // namespace cnimig::net
