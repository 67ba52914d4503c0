#include "api_response.hpp"

#include <boost/json.hpp>

namespace cnimig::sim {
namespace json = boost::json;

Error bad_request(std::string message) {
  return make_error(Errc::bad_request, 400, "BadRequest", std::move(message));
}

Error not_found(std::string message) {
  return make_error(Errc::not_found, 404, "NotFound", std::move(message));
}

ApiResponse object_response(const ObjectPtr& obj, int status) {
  return ApiResponse{status, "application/json", json::serialize(*obj)};
}

ApiResponse object_response(const json::object& obj, int status) {
  return ApiResponse{status, "application/json", json::serialize(obj)};
}

Result<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return bad_request("the request body is not a JSON object");
  return std::move(v.get_object());
}

bool is_pods(const ResourceType& t) {
  return t.group.empty() && t.plural == "pods";
}

std::string status_json(const Error& error, std::string_view kind, std::string_view name) {
  json::object s{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}};
  s["status"] = "Failure";
  s["message"] = error.message;
  s["reason"] = error.reason.empty() ? std::string("InternalError") : error.reason;
  s["code"] = error.http_status ? error.http_status : 500;
  if (!kind.empty() || !name.empty()) {
    json::object d;
    if (!name.empty())
      d["name"] = name;
    if (!kind.empty())
      d["kind"] = kind;
    s["details"] = std::move(d);
  }
  return json::serialize(s);
}

ApiResponse error_response(const Error& error, std::string_view kind, std::string_view name) {
  ApiResponse r;
  r.status = error.http_status ? error.http_status : 500;
  r.body = status_json(error, kind, name);
  if (error.retry_after.count() > 0)
    r.retry_after_seconds = static_cast<int>((error.retry_after.count() + 999) / 1000);
  return r;
}

}  // namespace cnimig::sim
