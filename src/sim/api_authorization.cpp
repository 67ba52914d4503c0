// Authorization: the forbidden faults' 403s and SelfSubjectAccessReview.
#include <chrono>

#include <boost/json.hpp>

#include "api_handler.hpp"
#include "api_response.hpp"
#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

std::optional<ApiResponse> ApiHandler::authorize(const std::string& verb, const ResourcePath& rp) {
  const AccessRequest asked{verb, rp.type->group, rp.type->plural, rp.subresource, rp.ns, rp.name};
  const auto* rule = authorizer_.refusal(asked, std::chrono::steady_clock::now());
  if (rule == nullptr)
    return std::nullopt;
  ++forbidden_[verb + " " + qualified_resource(*rp.type) +
               (rp.subresource.empty() ? "" : "/" + rp.subresource)];
  return error_response(forbidden_error(asked, *rule), rp.type->plural, rp.name);
}

ApiResponse ApiHandler::self_subject_access_review(const std::string& body) {
  // kubectl's typed client sends this one as protobuf; we answer the same for
  // any body, so a non-JSON body is fine (the JSON reply decodes either way).
  auto obj = parse_object(body);
  if (!obj)
    obj = json::object{{"metadata", json::object()}, {"spec", json::object()}};
  ++access_reviews_;
  // The request the review asks about meets the same rules as the request
  // itself would.
  AccessRequest asked;
  if (const auto* spec = fields::obj(*obj, "spec")) {
    if (const auto* a = fields::obj(*spec, "resourceAttributes")) {
      const auto text = [a](std::string_view key) { return std::string(fields::str(a, key)); };
      asked = AccessRequest{text("verb"),        text("group"),     text("resource"),
                            text("subresource"), text("namespace"), text("name")};
    }
  }
  if (authorizer_.review_allows(asked, std::chrono::steady_clock::now())) {
    (*obj)["status"] =
        json::object{{"allowed", true}, {"reason", "cnimig-sim allows every request"}};
  } else {
    (*obj)["status"] =
        json::object{{"allowed", false}, {"reason", "denied by cnimig-sim's forbidden fault"}};
  }
  if (!obj->contains("apiVersion"))
    (*obj)["apiVersion"] = "authorization.k8s.io/v1";
  if (!obj->contains("kind"))
    (*obj)["kind"] = "SelfSubjectAccessReview";
  return object_response(*obj, 201);
}

}  // namespace cnimig::sim
