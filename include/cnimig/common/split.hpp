#pragma once
// Splitting delimited text: comma lists on the command line and in fault
// specs, label selector terms, protocol offers, `ns/name` keys.

#include <string_view>
#include <utility>
#include <vector>

namespace cnimig {

// Every field between separators, empty ones included: "a,,b" gives
// {"a", "", "b"}, "" gives {""}. The views point into `text`.
std::vector<std::string_view> split(std::string_view text, char separator);

// `text` without leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

// The text before and after the first `separator`; the second is empty
// (and the first the whole text) when there is none.
std::pair<std::string_view, std::string_view> split_once(std::string_view text, char separator);

}  // namespace cnimig
