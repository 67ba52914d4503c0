#pragma once
// Test support: an ApiHandler over an ObjectStore holding only the system
// namespaces, called with plain method / target / body, as the API server
// hands it requests.

#include <string>

#include <boost/json.hpp>

#include "api_handler.hpp"

namespace cnimig::sim::test {

struct ApiFixture {
  ObjectStore store;
  ApiHandler api{store, 8};

  // kube-apiserver creates its system namespaces at start; objects can be
  // created only in a namespace that exists. The controller manager gives
  // each its ServiceAccount `default`, without which pods are refused.
  ApiFixture() {
    for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"})
      add_namespace(ns);
  }
  void add_namespace(const std::string& ns) {
    (void)store.create(resource_type("", "namespaces"),
                       boost::json::object{{"metadata", {{"name", ns}}}});
    (void)store.create(resource_type("", "serviceaccounts"),
                       boost::json::object{{"metadata", {{"name", "default"}, {"namespace", ns}}}});
  }

  ApiResult call(std::string method, std::string target, std::string body = {},
                 std::string content_type = "application/json") {
    return api.handle(ApiRequest{std::move(method), std::move(target), std::move(content_type),
                                 "application/json", std::move(body)});
  }
  boost::json::value body(const ApiResult& r) { return boost::json::parse(r.response.body); }
};

}  // namespace cnimig::sim::test
