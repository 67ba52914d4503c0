#pragma once
// The agent's only way to the Kubernetes API: HTTPS (HTTP/1.1 keep-alive
// pool over Beast), bearer/client-certificate/exec-plugin auth, a deadline
// on every request, retries with jittered exponential backoff (429, 5xx,
// dropped connections; Retry-After honoured; non-idempotent writes only when
// the server cannot have acted), and Kubernetes Status bodies as typed
// cnimig::Error values.
//
// Threading: a Client lives on one io_context and is used from coroutines on
// its (single) thread; it is not thread-safe. It must outlive the coroutines
// that use it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/kube/exec_channel_decoder.hpp"
#include "cnimig/kube/resource_path.hpp"
#include "cnimig/kube/retry_policy.hpp"
#include "cnimig/kube/server_clock.hpp"

namespace cnimig::kube {

enum class Method { get, post, put, patch, delete_ };
std::string_view to_string(Method m) noexcept;

struct RequestOptions {
  std::chrono::milliseconds timeout{30'000};  // per attempt: connect + write + read
  std::optional<int> max_attempts;            // default: ClientOptions::retry.max_attempts
};

// One attempt as seen on the wire, for metrics and `api.retry` events.
struct RequestRecord {
  Method method;
  std::string_view path;  // without the query string
  unsigned status;        // 0 when no response arrived
  std::chrono::steady_clock::duration duration;
  int attempt;  // 1-based
};
using RequestObserver = std::function<void(const RequestRecord&)>;

struct ClientOptions {
  RetryPolicy retry;
  // Requests in flight at once: an attempt holds a slot from taking a
  // connection to the end of its response (not while it backs off), and
  // waits for one in arrival order, outside its deadline. Watch streams and
  // pod exec take no slot: they live for minutes, and queueing them behind
  // (or letting them starve) short requests would stall the cache every gate
  // reads; their number is bounded elsewhere (one per informer, and the
  // connectivity check's fan-out).
  std::size_t max_requests_in_flight = 32;
  // Connections kept open for reuse; at least max_requests_in_flight, or a
  // burst closes and re-opens the difference every time.
  std::size_t max_idle_connections = 32;
  std::chrono::seconds max_idle_time{60};  // pooled connections older than this are dropped
  std::string user_agent = "cnimig-agent";
  RequestObserver observer;
};

struct HttpRequest {
  Method method = Method::get;
  std::string target;  // path and query, e.g. /api/v1/nodes?limit=500
  std::string body;
  std::string content_type;  // required with a body
  bool idempotent = true;    // false: never repeated once it may have reached the server
  RequestOptions options;
};

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::uint32_t limit = 500;  // page size; pages are followed with `continue`
  RequestOptions request;
};

struct ObjectList {
  std::string resource_version;  // of the list, for a following watch
  std::vector<boost::json::object> items;
};

struct WriteOptions {
  bool dry_run = false;  // dryRun=All: validated and admitted, not persisted
  RequestOptions request;
};

enum class PatchType {
  merge,      // application/merge-patch+json (RFC 7386)
  json,       // application/json-patch+json (RFC 6902)
  strategic,  // application/strategic-merge-patch+json (built-in kinds only)
};

struct ApplyOptions {
  bool dry_run = false;
  bool force = false;  // take ownership of conflicting fields
  std::string field_manager = "cnimig-agent";
  RequestOptions request;
};

struct DeleteOptions {
  bool dry_run = false;
  std::optional<std::int64_t> grace_period_seconds;
  std::string precondition_uid;               // delete only this incarnation
  std::string precondition_resource_version;  // delete only this version
  std::string propagation_policy;             // Orphan | Background | Foreground
  RequestOptions request;
};

// A SelfSubjectAccessReview question: "can I <verb> <group>/<resource>...?"
struct AccessCheck {
  std::string verb;
  std::string group;  // "" for core
  std::string resource;
  std::string subresource;
  std::string namespace_;
  std::string name;
};

struct ExecRequest {
  std::string namespace_;
  std::string pod;
  std::string container;  // empty: the pod's only/default container
  std::vector<std::string> command;
  std::chrono::milliseconds timeout{30'000};  // whole exec, handshake to status
};

class Client {
 public:
  // Builds the TLS context (CA, client certificate, verification mode) and
  // credential source. insecure-skip-tls-verify logs a warning.
  static Result<std::unique_ptr<Client>> create(boost::asio::any_io_executor executor,
                                                ClientConfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientConfig& config() const noexcept;
  boost::asio::any_io_executor get_executor() const noexcept;
  void set_observer(RequestObserver observer);
  // The API server's clock, learnt from the Date header of every response.
  const ServerClock& server_clock() const noexcept;

  // The verbs below are coroutines and take their options without a default:
  // GCC 12 destroys the temporary of a defaulted `= {}` coroutine parameter
  // twice, so every caller names the options it passes.

  // Any request; non-2xx answers become errors (Status reason mapped to Errc).
  boost::asio::awaitable<Result<HttpResponse>> request(HttpRequest request);

  boost::asio::awaitable<Result<boost::json::object>> get(const ResourcePath& object,
                                                          RequestOptions options);
  // Follows `continue` until the list is complete.
  boost::asio::awaitable<Result<ObjectList>> list(const ResourcePath& collection,
                                                  ListOptions options);
  // Same, handing each page's items to `on_page` instead of keeping them
  // (memory stays at one page); returns the list's resourceVersion.
  boost::asio::awaitable<Result<std::string>> list_pages(
      const ResourcePath& collection, const ListOptions& options,
      const std::function<void(std::vector<boost::json::object>&)>& on_page);

  // The collection's resourceVersion now: one page of at most one item,
  // read from the current state (no resourceVersion asked), so every object
  // of the collection written before the call has a version at most this.
  boost::asio::awaitable<Result<std::string>> current_version(const ResourcePath& collection,
                                                              RequestOptions options);

  boost::asio::awaitable<Result<boost::json::object>> create(const ResourcePath& collection,
                                                             const boost::json::object& object,
                                                             WriteOptions options);
  boost::asio::awaitable<Result<boost::json::object>> replace(const ResourcePath& object,
                                                              const boost::json::object& body,
                                                              WriteOptions options);
  boost::asio::awaitable<Result<boost::json::object>> patch(const ResourcePath& object,
                                                            PatchType type, std::string body,
                                                            WriteOptions options);
  // Server-side apply: PATCH application/apply-patch+yaml with a JSON body
  // (JSON is YAML), fieldManager=cnimig-agent.
  boost::asio::awaitable<Result<boost::json::object>> apply(const ResourcePath& object,
                                                            const boost::json::object& body,
                                                            ApplyOptions options);
  // Returns the Status or the object the server answered with.
  boost::asio::awaitable<Result<boost::json::object>> remove(const ResourcePath& object,
                                                             DeleteOptions options);
  // POST pods/<name>/eviction (policy/v1). A PDB that forbids the disruption
  // answers 429 (Errc::too_many_requests): pass request.max_attempts = 1 to
  // get it back at once instead of retrying.
  boost::asio::awaitable<Result<void>> evict(const std::string& namespace_, const std::string& pod,
                                             DeleteOptions options);
  // authorization.k8s.io/v1 SelfSubjectAccessReview; true when allowed.
  boost::asio::awaitable<Result<bool>> can_i(const AccessCheck& check, RequestOptions options);

  // Pod exec over WebSocket (v5.channel.k8s.io, else v4.channel.k8s.io).
  // A non-zero exit is a result, not an error.
  boost::asio::awaitable<Result<ExecResult>> exec(const ExecRequest& request);

  struct Impl;
  Impl& impl() noexcept { return *impl_; }  // for the module's own stream types

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cnimig::kube
