#pragma once
// One decision's consecutive writes to one Node object (labels, annotations,
// cordon, taints), carried by one JSON merge patch instead of one patch each.
// The core lists them in the order a crash may interrupt them
// (src/migrate/README.md, "Annotations"); one patch applies them all or none
// (the API server stores an object's update atomically), so every state a
// crash can leave is one the core already resumes from, with fewer of them.
// Writes that must be *observed* before the next one are in separate
// decisions already, so they never meet in one batch.

#include <map>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "cnimig/migrate/action.hpp"

namespace cnimig::agent {

// {"a":"v","b":null}: `set` entries become values, `remove` entries nulls.
boost::json::object merge_map_patch(const std::map<std::string, std::string>& set,
                                    const std::vector<std::string>& remove);

// LabelNode, AnnotateNode, SetCordon, AddTaint, RemoveTaint: writes to the
// Node object itself (not its pods).
bool is_node_object_write(const migrate::Action& action) noexcept;

// The Node a node-object write patches; null for any other action.
const std::string* written_node(const migrate::Action& action) noexcept;

// Splits one node's actions (in the driver's order) into the runs executed
// one after another: consecutive node-object writes to the same node form one
// run, every other action is a run by itself. Order is kept.
std::vector<std::vector<migrate::Action>> batch_node_writes(
    const std::vector<migrate::Action>& actions);

// Whether the writes add or remove a taint: spec.taints is a list, which a
// merge patch replaces whole, so the patch needs the node's current list.
bool edits_taints(const std::vector<migrate::Action>& writes) noexcept;

struct NodePatch {
  // {"metadata":{"labels":..,"annotations":..},"spec":{"unschedulable":..,"taints":..}};
  // empty when the writes change nothing (taints already as wanted and no
  // other field).
  boost::json::object body;
  // The patch replaces spec.taints: send it with the resourceVersion the
  // list was read at, so a concurrent taint (the node controller's) is not
  // lost.
  bool replaces_taints = false;
};

// The merge patch that leaves the node as the writes applied one by one in
// order would: a key set and later removed ends removed, the last cordon
// wins. `taints`: the node's current spec.taints (used only when
// edits_taints(writes)).
NodePatch node_merge_patch(const std::vector<migrate::Action>& writes,
                           const boost::json::array& taints);

}  // namespace cnimig::agent
