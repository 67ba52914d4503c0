// The request counters and GET /sim/v1/report.
#include <boost/json.hpp>

#include "api_handler.hpp"

namespace cnimig::sim {
namespace json = boost::json;

void ApiHandler::count_request(const std::string& verb, const std::string& resource) {
  ++requests_[verb + " " + resource];
  ++requests_by_client_[client_.empty() ? "unknown" : client_][verb + " " + resource];
}

void ApiHandler::set_client(std::string_view user_agent) {
  client_ = std::string(user_agent.substr(0, user_agent.find_first_of("/ ")));
}

json::object ApiHandler::report() const {
  json::object requests;
  std::uint64_t total = 0;
  for (const auto& [k, v] : requests_) {
    requests[k] = v;
    total += v;
  }
  json::object r;
  if (report_source_)
    r = report_source_();
  r["requests"] = std::move(requests);
  json::object by_client;
  for (const auto& [client, counts] : requests_by_client_) {
    json::object c;
    for (const auto& [k, v] : counts)
      c[k] = v;
    by_client[client] = std::move(c);
  }
  r["requests_by_client"] = std::move(by_client);
  r["requests_total"] = total;
  r["watches_opened"] = watches_opened_;
  const auto& c = *connection_stats_;
  r["connections"] = json::object{{"accepted", c.accepted},
                                  {"open", c.open},
                                  {"peak_open", c.peak_open},
                                  {"requests_in_progress", c.requests_in_progress},
                                  {"peak_requests_in_progress", c.peak_requests_in_progress}};
  r["access_reviews"] = access_reviews_;
  r["evictions_allowed"] = evictions_allowed_;
  r["evictions_blocked"] = evictions_blocked_;
  r["faults_injected"] = faults_injected_;
  json::object forbidden;
  for (const auto& [k, v] : forbidden_)
    forbidden[k] = v;
  r["forbidden"] = std::move(forbidden);
  r["writes"] = store_.writes();
  r["resource_version"] = store_.resource_version();
  return r;
}

}  // namespace cnimig::sim
