#pragma once
// A core/v1 Event about a Node, for the migration's milestones, so that
// `kubectl describe node` shows them. Built like client-go's event recorder:
// name "<node>.<unix nanos in hex>", namespace "default" (where node events
// live), involvedObject pointing at the Node, source/reportingComponent
// "cnimig-agent".

#include <chrono>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace cnimig::agent {

enum class NodeEventType { normal, warning };

struct NodeEventInput {
  std::string node;
  std::string node_uid;  // may be empty; kubectl matches on it when present
  std::string reason;    // UpperCamelCase, e.g. "CniMigrated"
  std::string message;   // truncated to 1024 bytes, as the API server requires
  NodeEventType type = NodeEventType::normal;
  std::string instance;  // reportingInstance: "<hostname>/<pid>"
};

boost::json::object make_node_event(const NodeEventInput& input,
                                    std::chrono::system_clock::time_point now);

}  // namespace cnimig::agent
