#pragma once
// The answers the API handler's files build alike: kube-apiserver's errors
// (HTTP status, Status reason and message) and objects as response bodies.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"

#include "api_handler.hpp"
#include "object_store.hpp"
#include "resource_type.hpp"

namespace cnimig::sim {

Error bad_request(std::string message);
Error not_found(std::string message);

ApiResponse object_response(const ObjectPtr& obj, int status = 200);
ApiResponse object_response(const boost::json::object& obj, int status = 200);

// 400 when the body is not a JSON object.
Result<boost::json::object> parse_object(std::string_view body);

bool is_pods(const ResourceType& t);

}  // namespace cnimig::sim
