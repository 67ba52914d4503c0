#pragma once
// Result<T>: a value or a cnimig::Error. boost::system::result is the
// std::expected of C++20-era Boost; .value() throws ErrorException.

#include <boost/system/result.hpp>

#include "cnimig/common/error.hpp"

namespace cnimig {

template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace cnimig
