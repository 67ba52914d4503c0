// The API half of fault injection: the /sim/v1/faults endpoint, injected
// errors and timeouts, and stop-at-write.
#include <cctype>
#include <random>

#include <boost/json.hpp>

#include "api_handler.hpp"
#include "api_response.hpp"

namespace cnimig::sim {
namespace json = boost::json;

void ApiHandler::set_faults(FaultSpec faults) {
  faults_ = std::move(faults);
  authorizer_.set_rules(faults_.forbidden, std::chrono::steady_clock::now());
  counted_writes_ = 0;
  held_writes_ = 0;
  first_held_.clear();
  if (cluster_fault_sink_)
    cluster_fault_sink_(faults_);
}

json::object ApiHandler::fault_state() const {
  json::object stop{{"armed", faults_.stop_at_write > 0},
                    {"at", faults_.stop_at_write},
                    {"counted", counted_writes_},
                    {"triggered", held_writes_ > 0},
                    {"held", held_writes_}};
  if (!first_held_.empty())
    stop["first_held"] = first_held_;
  return json::object{{"spec", faults_.to_string()}, {"stop_at_write", std::move(stop)}};
}

// PUT /sim/v1/faults replaces the faults with the body (--faults syntax;
// empty clears them); GET returns them. Requests already held stay held: the
// client that sent them is the "crashed" one.
ApiResponse ApiHandler::fault_endpoint(const ApiRequest& request) {
  if (request.method == "GET") {
    count_request("get", "sim/faults");
    return object_response(fault_state());
  }
  if (request.method != "PUT")
    return error_response(make_error(Errc::method_not_allowed, 405, "MethodNotAllowed",
                                     "/sim/v1/faults serves GET and PUT"));
  count_request("update", "sim/faults");
  std::string text = request.body;
  // Also {"spec":"..."}, the shape GET returns.
  if (text.find_first_not_of(" \t\r\n") != std::string::npos &&
      text[text.find_first_not_of(" \t\r\n")] == '{') {
    boost::system::error_code ec;
    const auto doc = json::parse(text, ec);
    const auto* spec = !ec && doc.is_object() ? doc.as_object().if_contains("spec") : nullptr;
    if (!spec || !spec->is_string())
      return error_response(bad_request("want a fault spec, or {\"spec\":\"...\"}"));
    text = std::string(spec->as_string());
  }
  std::erase_if(text, [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  auto spec = FaultSpec::parse(text);
  if (!spec)
    return error_response(bad_request(spec.error().message));
  set_faults(std::move(*spec));
  return object_response(fault_state());
}

bool ApiHandler::stop_write(const std::string& verb, const ResourcePath& rp,
                            const std::string& resource, const Query& q, const std::string& body) {
  if (faults_.stop_at_write == 0 || verb == "get" || verb == "list" || verb == "watch")
    return false;
  // Not writes: nothing is stored.
  if (rp.type->plural == "selfsubjectaccessreviews" || !q.get("dryRun").empty())
    return false;
  if (held_writes_ > 0) {
    ++held_writes_;
    return true;
  }
  if (faults_.stop_at_write_skip.count(rp.type->plural))
    return false;
  if (++counted_writes_ < faults_.stop_at_write)
    return false;
  ++held_writes_;
  first_held_ = verb + " " + resource + " " + (rp.ns.empty() ? "" : rp.ns + "/") + rp.name;
  // FNV-1a of the body: tells a rerun's repeat of a write from a later write
  // to the same object.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  if (fault_listener_)
    fault_listener_(json::object{{"event", "sim.write-held"},
                                 {"write", counted_writes_},
                                 {"verb", verb},
                                 {"resource", resource},
                                 {"namespace", rp.ns},
                                 {"name", rp.name},
                                 {"body_hash", std::to_string(h)}});
  return true;
}

std::optional<ApiResponse> ApiHandler::injected_fault(const std::string& verb, bool& hold) {
  if (faults_.timeout_rate > 0 &&
      (faults_.error_verbs.empty() || faults_.error_verbs.count(verb)) &&
      std::uniform_real_distribution<>(0, 1)(rng_) < faults_.timeout_rate) {
    ++faults_injected_;
    hold = true;
    return ApiResponse{};
  }
  if (faults_.error_rate <= 0 || (!faults_.error_verbs.empty() && !faults_.error_verbs.count(verb)))
    return std::nullopt;
  if (std::uniform_real_distribution<>(0, 1)(rng_) >= faults_.error_rate)
    return std::nullopt;
  ++faults_injected_;
  int status = faults_.error_status;
  if (status == 0)
    status = (faults_injected_ % 2) ? 429 : 500;
  Error e = status == 429 ? make_error(Errc::too_many_requests, 429, "TooManyRequests",
                                       "the server has received too many requests (injected)")
                          : make_error(Errc::server_error, status, "InternalError",
                                       "an error on the server (injected)");
  if (status == 429)
    e.retry_after = std::chrono::seconds(1);
  return error_response(e);
}

}  // namespace cnimig::sim
