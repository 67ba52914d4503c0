#pragma once
// Private to the kube module: what every Client verb does around
// Impl::request (build the HttpRequest, encode the query, read the JSON
// object the server answered with).

#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "client_impl.hpp"

namespace cnimig::kube {

using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// "?k=v&k2=v2" with the values URL-encoded; "" for no parameters.
std::string query_join(const QueryParameters& params);

HttpRequest make_request(Method m, std::string target, std::string body, std::string content_type,
                         bool idempotent, RequestOptions options);

// Errc::protocol unless the body is a JSON object.
Result<boost::json::object> parse_object(const std::string& body);

// Sends the request and parses the object the server answered with.
asio::awaitable<Result<boost::json::object>> request_object(Client::Impl& impl,
                                                            HttpRequest request);

}  // namespace cnimig::kube
