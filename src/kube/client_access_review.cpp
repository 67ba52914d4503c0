// Client::can_i: a SelfSubjectAccessReview, the question "may I?" put to
// the API server's authorizer.

#include <boost/json.hpp>

#include "client_verbs.hpp"

namespace cnimig::kube {

namespace json = boost::json;

asio::awaitable<Result<bool>> Client::can_i(const AccessCheck& check, RequestOptions options) {
  json::object attrs{{"verb", check.verb}, {"resource", check.resource}};
  if (!check.group.empty())
    attrs["group"] = check.group;
  if (!check.subresource.empty())
    attrs["subresource"] = check.subresource;
  if (!check.namespace_.empty())
    attrs["namespace"] = check.namespace_;
  if (!check.name.empty())
    attrs["name"] = check.name;
  json::object review{{"apiVersion", "authorization.k8s.io/v1"},
                      {"kind", "SelfSubjectAccessReview"},
                      {"spec", json::object{{"resourceAttributes", std::move(attrs)}}}};
  // Creating a review has no side effect: safe to repeat.
  auto req = make_request(Method::post, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                          json::serialize(review), "application/json", true, options);
  auto obj = co_await request_object(*impl_, std::move(req));
  if (!obj)
    co_return obj.error();
  if (auto* st = obj->if_contains("status"); st && st->is_object())
    if (auto* a = st->get_object().if_contains("allowed"); a && a->is_bool())
      co_return a->get_bool();
  co_return make_error(Errc::protocol, "SelfSubjectAccessReview: response has no status.allowed");
}

}  // namespace cnimig::kube
