#pragma once
// Durations as Go and kubectl write them: "30s", "15m", "1h30m", "250ms".

#include <chrono>
#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"

namespace cnimig::config {

// Positive durations only: a zero timeout would make every wait fail at once.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

std::string format_duration(std::chrono::milliseconds d);

// "3" or "25%"; zero and percentages over 100 are rejected.
Result<MaxUnavailable> parse_max_unavailable(std::string_view text);

}  // namespace cnimig::config
