#include "cnimig/agent/node_event.hpp"

#include <cstdio>

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/events/json_lines_writer.hpp"

namespace cnimig::agent {
boost::json::object make_node_event(const NodeEventInput& input,
                                    std::chrono::system_clock::time_point now) {
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));

  std::string message = events::sanitize_utf8(input.message);
  if (message.size() > 1024)
    message = events::sanitize_utf8(message.substr(0, 1021)) + "...";
  const auto stamp = format_rfc3339(now, TimePrecision::seconds);  // metav1.Time

  boost::json::object involved{{"kind", "Node"}, {"apiVersion", "v1"}, {"name", input.node}};
  if (!input.node_uid.empty())
    involved["uid"] = input.node_uid;

  return boost::json::object{
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", boost::json::object{{"name", input.node + suffix}, {"namespace", "default"}}},
      {"involvedObject", std::move(involved)},
      {"reason", input.reason},
      {"message", message},
      {"type", input.type == NodeEventType::warning ? "Warning" : "Normal"},
      {"source", boost::json::object{{"component", "cnimig-agent"}}},
      {"reportingComponent", "cnimig-agent"},
      {"reportingInstance", input.instance},
      {"firstTimestamp", stamp},
      {"lastTimestamp", stamp},
      {"count", 1},
  };
}

}  // namespace cnimig::agent
