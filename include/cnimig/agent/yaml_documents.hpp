#pragma once
// Multi-document YAML (manifests) to JSON objects, the way kubectl reads them:
// each non-empty document must be a mapping; `kind: List` is expanded into its
// items. yaml-cpp keeps every scalar a string, so plain scalars are typed here
// by the YAML 1.2 core schema (null, booleans, integers, floats); quoted
// scalars and !!str stay strings. Duplicate keys are errors, as in kubectl.

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"

namespace cnimig::agent {

// `source` names the file in errors: "<source>:<line>:<col>: ...".
Result<std::vector<boost::json::object>> parse_yaml_documents(std::string_view text,
                                                              const std::string& source);

}  // namespace cnimig::agent
