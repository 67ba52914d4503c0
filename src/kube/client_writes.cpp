// Client's writes: create, replace, patch, server-side apply, delete and
// evict, each with dryRun=All on request.

#include <boost/json.hpp>

#include "client_verbs.hpp"

namespace cnimig::kube {

namespace json = boost::json;

namespace {

std::string write_query(bool dry_run, QueryParameters extra = {}) {
  if (dry_run)
    extra.emplace_back("dryRun", "All");
  return query_join(extra);
}

json::object delete_body(const DeleteOptions& o, const char* kind, const char* api_version) {
  json::object b{{"kind", kind}, {"apiVersion", api_version}};
  if (o.dry_run)
    b["dryRun"] = json::array{"All"};
  if (o.grace_period_seconds)
    b["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (!o.propagation_policy.empty())
    b["propagationPolicy"] = o.propagation_policy;
  if (!o.precondition_uid.empty() || !o.precondition_resource_version.empty()) {
    json::object p;
    if (!o.precondition_uid.empty())
      p["uid"] = o.precondition_uid;
    if (!o.precondition_resource_version.empty())
      p["resourceVersion"] = o.precondition_resource_version;
    b["preconditions"] = std::move(p);
  }
  return b;
}

}  // namespace

asio::awaitable<Result<json::object>> Client::create(const ResourcePath& collection,
                                                     const json::object& object,
                                                     WriteOptions options) {
  // POST is not idempotent: a create that may have reached the server is not
  // repeated (the caller sees the error and re-reads).
  auto req =
      make_request(Method::post, collection.collection().path() + write_query(options.dry_run),
                   json::serialize(object), "application/json", false, options.request);
  co_return co_await request_object(*impl_, std::move(req));
}

asio::awaitable<Result<json::object>> Client::replace(const ResourcePath& object,
                                                      const json::object& body,
                                                      WriteOptions options) {
  auto req = make_request(Method::put, object.path() + write_query(options.dry_run),
                          json::serialize(body), "application/json", true, options.request);
  co_return co_await request_object(*impl_, std::move(req));
}

asio::awaitable<Result<json::object>> Client::patch(const ResourcePath& object, PatchType type,
                                                    std::string body, WriteOptions options) {
  const char* ct = type == PatchType::merge  ? "application/merge-patch+json"
                   : type == PatchType::json ? "application/json-patch+json"
                                             : "application/strategic-merge-patch+json";
  // A JSON patch may append to lists ("add" at "/-"): applying it twice is not
  // the same as once, so it is treated as non-idempotent.
  auto req = make_request(Method::patch, object.path() + write_query(options.dry_run),
                          std::move(body), ct, type != PatchType::json, options.request);
  co_return co_await request_object(*impl_, std::move(req));
}

asio::awaitable<Result<json::object>> Client::apply(const ResourcePath& object,
                                                    const json::object& body,
                                                    ApplyOptions options) {
  QueryParameters q{{"fieldManager", options.field_manager}};
  if (options.force)
    q.emplace_back("force", "true");
  auto req =
      make_request(Method::patch, object.path() + write_query(options.dry_run, q),
                   json::serialize(body), "application/apply-patch+yaml", true, options.request);
  co_return co_await request_object(*impl_, std::move(req));
}

asio::awaitable<Result<json::object>> Client::remove(const ResourcePath& object,
                                                     DeleteOptions options) {
  auto body = delete_body(options, "DeleteOptions", "v1");
  auto req = make_request(Method::delete_, object.path() + write_query(options.dry_run),
                          json::serialize(body), "application/json", true, options.request);
  co_return co_await request_object(*impl_, std::move(req));
}

asio::awaitable<Result<void>> Client::evict(const std::string& ns, const std::string& pod,
                                            DeleteOptions options) {
  json::object eviction{{"apiVersion", "policy/v1"},
                        {"kind", "Eviction"},
                        {"metadata", json::object{{"name", pod}, {"namespace", ns}}}};
  eviction["deleteOptions"] = delete_body(options, "DeleteOptions", "v1");
  auto path = ResourcePath::core("pods").in(ns).named(pod).sub("eviction").path();
  auto req = make_request(Method::post, path + write_query(options.dry_run),
                          json::serialize(eviction), "application/json", false, options.request);
  auto r = co_await impl_->request(std::move(req));
  if (!r)
    co_return r.error();
  co_return Result<void>{};
}

}  // namespace cnimig::kube
