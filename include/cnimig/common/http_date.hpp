#pragma once
// HTTP dates (RFC 9110 section 5.6.7, IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"),
// as in the Date header the API server sends with every response.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cnimig {

// Whole seconds, always GMT. Independent of the C locale.
std::string format_http_date(std::chrono::system_clock::time_point t);

// IMF-fixdate only (the obsolete RFC 850 and asctime forms are not sent by
// Go's net/http); nullopt when malformed.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text);

}  // namespace cnimig
