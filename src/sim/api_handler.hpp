#pragma once
// The Kubernetes REST semantics of the simulator, without any I/O: routing,
// discovery, CRUD with selectors and paging, patches, server-side apply,
// graceful deletion, garbage collection of owned pods, eviction with PDB
// accounting, SelfSubjectAccessReview, and the plan for a watch stream. The
// HTTPS server (ApiServer) feeds it parsed requests and streams the watches.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "cnimig/sim/fault_spec.hpp"
#include "cnimig/wire/label_selector.hpp"

#include "authorizer.hpp"
#include "object_store.hpp"
#include "table_converter.hpp"
#include "watch_history.hpp"

namespace cnimig::sim {

struct ApiRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string target;  // path and query string, as on the request line
  std::string content_type;
  std::string accept;
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  int retry_after_seconds = 0;  // sent as Retry-After when > 0
};

// Decoded query string (repeated keys keep every value, e.g. exec's command=).
struct Query {
  std::multimap<std::string, std::string> values;
  std::string get(const std::string& key, std::string fallback = {}) const;
  std::vector<std::string> all(const std::string& key) const;
  bool flag(const std::string& key) const;  // "true" or "1"
  static Query parse(std::string_view query_string);
};

// The REST path split into its parts.
struct ResourcePath {
  const ResourceType* type = nullptr;
  std::string version;  // as the path names it ("v1", "v2alpha1")
  std::string ns;
  std::string name;
  std::string subresource;
};

// A watch the server should stream.
class WatchPlan {
 public:
  const ResourceType* type = nullptr;
  std::string ns;
  std::string name;  // metadata.name field selector, or a watch on one object
  wire::LabelSelector labels;
  wire::FieldSelector fields;
  bool bookmarks = false;
  std::chrono::seconds timeout{0};    // 0 = until the client or a fault ends it
  std::vector<std::string> initial;   // event lines to send first
  bool finish_after_initial = false;  // e.g. a 410 ERROR event ends the stream
  bool table = false;                 // events carry meta.k8s.io/v1 Tables (kubectl get -w)
  TableObjects table_objects = TableObjects::metadata;
  std::string object_api_version;  // custom resources: the version watched ("" as stored)
  // One event line for this watch (a Table of one row when `table`).
  std::string render(std::string_view event_type, const ObjectPtr& object) const;
  // The event line (without the trailing newline) this change produces for this
  // watch, if any: selector transitions turn into ADDED/DELETED like the real server.
  std::optional<std::string> event_line(const Change& change) const;
  std::string bookmark_line(std::uint64_t resource_version) const;

 private:
  bool selects(const boost::json::object& obj) const;
};

struct ApiResult {
  ApiResponse response;
  std::shared_ptr<WatchPlan> watch;  // set when the response is a watch stream
  bool hold = false;                 // fault: never answer (client deadline test)
};

// What the HTTPS front holds open at once, for the report's "connections":
// how hard clients press the server concurrently (a real API server throttles
// beyond --max-requests-inflight). Shared with the server's sessions, which
// may end after the handler is gone.
struct ConnectionStats {
  std::uint64_t accepted = 0;
  std::uint64_t open = 0;
  std::uint64_t peak_open = 0;
  std::uint64_t requests_in_progress = 0;  // read and not yet answered
  std::uint64_t peak_requests_in_progress = 0;

  void opened() {
    ++accepted;
    peak_open = std::max(peak_open, ++open);
  }
  void closed() { --open; }
  void request_started() {
    peak_requests_in_progress = std::max(peak_requests_in_progress, ++requests_in_progress);
  }
  void request_answered() { --requests_in_progress; }
};

class ApiHandler {
 public:
  ApiHandler(ObjectStore& store, std::size_t history_capacity = 100000);
  ~ApiHandler();
  ApiHandler(const ApiHandler&) = delete;
  ApiHandler& operator=(const ApiHandler&) = delete;

  // Replaces every fault at once (`--faults` at start, `PUT /sim/v1/faults` at
  // runtime): the API half here, the cluster half through the fault sink. The
  // stop-at-write count restarts from zero.
  void set_faults(FaultSpec faults);
  const FaultSpec& faults() const { return faults_; }
  // Receives each new spec so the cluster model can apply its half
  // (never-ready-node, blocking-pdb).
  void set_cluster_fault_sink(std::function<void(const FaultSpec&)> sink) {
    cluster_fault_sink_ = std::move(sink);
  }
  // Called once when stop-at-write holds its first write (cnimig-sim prints it
  // as a `sim.write-held` line, so tests wait for it instead of sleeping).
  void set_fault_listener(std::function<void(const boost::json::object&)> listener) {
    fault_listener_ = std::move(listener);
  }
  // GET /sim/v1/faults: the spec in --faults syntax and the stop-at-write state.
  boost::json::object fault_state() const;
  // Host:port clients reach us on (discovery's serverAddressByClientCIDRs).
  void set_server_address(std::string address) { server_address_ = std::move(address); }

  ApiResult handle(const ApiRequest& request);

  // The fault spec's `forbidden` rules and the version served (GET /version).
  Authorizer& authorizer() { return authorizer_; }
  // nullopt when the request may go ahead, else its 403 (counted in the
  // report's "forbidden").
  std::optional<ApiResponse> authorize(const std::string& verb, const ResourcePath& rp);

  // Resolves /api/v1/... and /apis/<g>/<v>/... paths; nullopt when not a resource path.
  static std::optional<ResourcePath> parse_path(std::string_view path);
  // The apiVersion objects of the path's type carry in answers: a custom
  // resource's the version the path names, other types' their one version.
  static std::string requested_api_version(const ResourcePath& rp);
  // `object` as a client asking for `api_version` sees it (a copy when the
  // stored apiVersion differs: conversion None).
  static ObjectPtr at_version(const ObjectPtr& object, std::string_view api_version);

  // Counters for /sim/v1/report.
  void count_request(const std::string& verb, const std::string& resource);
  // The client of the request being handled, by its User-Agent's product
  // token ("kubectl", "cnimig-agent"): the report also counts requests per
  // client, so a test can tell the agent's own requests from kubectl's.
  void set_client(std::string_view user_agent);
  void count_watch_opened() { ++watches_opened_; }
  const std::shared_ptr<ConnectionStats>& connection_stats() const { return connection_stats_; }
  boost::json::object report() const;

  // Merged into /sim/v1/report (the cluster model's counters).
  void set_report_source(std::function<boost::json::object()> source) {
    report_source_ = std::move(source);
  }

  ObjectStore& store() { return store_; }
  const WatchHistory& history() const { return history_; }

  // Deletes with the API's semantics (graceful for scheduled pods, finalizers,
  // garbage collection of dependents). Exposed for in-process callers.
  Result<ObjectPtr> delete_object(const ResourceType& type, const std::string& ns,
                                  const std::string& name,
                                  std::optional<std::int64_t> grace_seconds,
                                  const std::string& propagation = "Background");

 private:
  // The member functions are defined across src/sim/api_*.cpp, one file per
  // concern (discovery, watch, writes, deletion, eviction, faults, ...).

  // nullopt when `path` is not a discovery document.
  std::optional<ApiResponse> discovery(std::string_view path) const;
  ApiResponse openapi_v3(std::string_view path) const;
  ApiResult handle_resource(const ApiRequest& request, const ResourcePath& rp, const Query& q);
  ApiResult read(const ApiRequest& request, const ResourcePath& rp, const Query& q, bool watch,
                 const std::string& resource);
  ApiResult watch_one(const ResourcePath& rp, const Query& q, bool table);
  ApiResponse dispatch_write(const ApiRequest& request, const ResourcePath& rp, const Query& q);
  ApiResult list_or_watch(const ResourcePath& rp, const Query& q, bool watch, bool table);
  ApiResult open_watch(const ResourcePath& rp, const Query& q, bool table,
                       wire::LabelSelector labels, wire::FieldSelector field_selector);
  std::optional<ApiResponse> resume(WatchPlan& plan, const std::string& rv);
  ApiResponse create(const ResourcePath& rp, const Query& q, const std::string& body);
  ApiResponse replace(const ResourcePath& rp, const Query& q, const std::string& body);
  ApiResponse patch(const ResourcePath& rp, const Query& q, const ApiRequest& request);
  std::optional<ApiResponse> server_side_apply(const ResourcePath& rp, const Query& q,
                                               const ObjectPtr& current, boost::json::object& body);
  ApiResponse save_patched(const ResourcePath& rp, const Query& q, boost::json::value patched);
  ApiResponse remove(const ResourcePath& rp, const Query& q, const std::string& body);
  ApiResponse delete_collection(const ResourcePath& rp, const Query& q);
  ApiResponse evict(const ResourcePath& rp, const Query& q, const std::string& body);
  ApiResponse self_subject_access_review(const std::string& body);
  std::optional<ApiResponse> injected_fault(const std::string& verb, bool& hold);
  ApiResponse fault_endpoint(const ApiRequest& request);
  // stop-at-write: true when this client write must be held (and not applied).
  bool stop_write(const std::string& verb, const ResourcePath& rp, const std::string& resource,
                  const Query& q, const std::string& body);
  void collect_garbage(const ResourceType& type, const boost::json::object& owner);
  // The CRDs served (api_crds.cpp): every `served: true` version of each CRD
  // in the store, as kube-apiserver serves them.
  void on_crd_change(const Change& change);
  bool serves(const ResourcePath& rp) const;
  // A custom resource's body must name the path's group and version (400
  // otherwise, as kube-apiserver answers); a body without one gets it.
  static std::optional<ApiResponse> check_api_version(const ResourcePath& rp,
                                                      boost::json::object& body);
  // Built-in types, then one entry per served version of each CRD.
  std::vector<const ResourceType*> served_types() const;

  ObjectStore& store_;
  WatchHistory history_;
  struct ServedCrd {
    const ResourceType* type;           // the store's bucket
    std::vector<std::string> versions;  // served, storage first
  };
  std::map<std::string, ServedCrd, std::less<>> crds_;  // by CRD name
  std::deque<ResourceType> crd_views_;                  // per served version, for discovery
  std::size_t observer_id_ = 0;
  FaultSpec faults_;
  std::mt19937_64 rng_{42};
  std::string server_address_ = "127.0.0.1:443";
  std::map<std::string, std::uint64_t> requests_;  // "verb resource" -> count
  std::string client_;                             // product token of the current request
  std::map<std::string, std::map<std::string, std::uint64_t>> requests_by_client_;
  std::uint64_t watches_opened_ = 0;
  std::shared_ptr<ConnectionStats> connection_stats_ = std::make_shared<ConnectionStats>();
  std::uint64_t access_reviews_ = 0;
  std::uint64_t evictions_allowed_ = 0;
  std::uint64_t evictions_blocked_ = 0;
  std::uint64_t faults_injected_ = 0;
  Authorizer authorizer_;
  std::map<std::string, std::uint64_t> forbidden_;  // "verb resource" -> 403s answered
  std::uint64_t counted_writes_ = 0;                // client writes counted toward stop-at-write
  std::uint64_t held_writes_ = 0;                   // writes held since stop-at-write triggered
  std::string first_held_;  // "verb resource ns/name" of the write that triggered it
  std::function<boost::json::object()> report_source_;
  std::function<void(const FaultSpec&)> cluster_fault_sink_;
  std::function<void(const boost::json::object&)> fault_listener_;
};

// A metav1.Status document for an error (or success when error is null).
std::string status_json(const Error& error, std::string_view kind = {}, std::string_view name = {});
ApiResponse error_response(const Error& error, std::string_view kind = {},
                           std::string_view name = {});

}  // namespace cnimig::sim
