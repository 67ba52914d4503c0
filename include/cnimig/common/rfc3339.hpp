#pragma once
// Kubernetes timestamps: metav1.Time ("2026-11-25T08:30:00Z"), metav1.MicroTime
// ("2026-11-25T08:30:00.123456Z") and the event stream's milliseconds.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cnimig {

enum class TimePrecision { seconds, milliseconds, microseconds };

// Always UTC with a trailing Z.
std::string format_rfc3339(std::chrono::system_clock::time_point t,
                           TimePrecision precision = TimePrecision::milliseconds);

// Accepts any fractional precision and a Z or ±hh:mm offset; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace cnimig
