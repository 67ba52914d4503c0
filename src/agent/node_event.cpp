#include "cnimig/agent/node_event.hpp"

#include <cstdio>

#include "cnimig/events/json_lines_writer.hpp"

namespace cnimig::agent {
namespace {

// metav1.Time has second precision: "2026-11-25T08:30:00Z".
std::string seconds_timestamp(std::chrono::system_clock::time_point t) {
  auto text = events::format_timestamp(t);  // ...:00.123Z
  return text.substr(0, 19) + "Z";
}

}  // namespace

boost::json::object make_node_event(const NodeEventInput& input,
                                    std::chrono::system_clock::time_point now) {
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));

  std::string message = events::sanitize_utf8(input.message);
  if (message.size() > 1024)
    message = events::sanitize_utf8(message.substr(0, 1021)) + "...";
  const auto stamp = seconds_timestamp(now);

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
