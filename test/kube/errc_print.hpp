#pragma once
// Lets Boost.Test print cnimig::Errc in failed assertions.
#include <ostream>

#include "cnimig/common/error.hpp"

namespace cnimig {
inline std::ostream& operator<<(std::ostream& os, Errc c) {
  return os << to_string(c);
}
}  // namespace cnimig
