#include "cnimig/agent/node_write_batch.hpp"

#include <algorithm>
#include <optional>
#include <type_traits>
#include <variant>

namespace cnimig::agent {

using namespace migrate;

namespace {

// Within one action the removals come after the sets (merge_map_patch);
// across actions the later one wins.
void merge_into(boost::json::object& out, const std::map<std::string, std::string>& set,
                const std::vector<std::string>& remove) {
  for (const auto& [k, v] : merge_map_patch(set, remove))
    out[k] = v;
}

bool same_taint(const boost::json::value& v, const Taint& taint) {
  if (!v.is_object())
    return false;
  const auto& o = v.get_object();
  const auto* key = o.if_contains("key");
  const auto* effect = o.if_contains("effect");
  return key != nullptr && effect != nullptr && *key == taint.key.c_str() &&
         *effect == taint.effect.c_str();
}

boost::json::object taint_object(const Taint& t) {
  boost::json::object o;
  o["key"] = t.key;
  o["value"] = t.value;
  o["effect"] = t.effect;
  return o;
}

// Adds or removes `taint` (matched by key and effect, as kubectl taint does).
void edit_taint(boost::json::array& taints, const Taint& taint, bool add) {
  const auto it = std::find_if(taints.begin(), taints.end(),
                               [&](const boost::json::value& v) { return same_taint(v, taint); });
  if (add && it == taints.end())
    taints.push_back(taint_object(taint));
  if (!add && it != taints.end())
    taints.erase(it);
}

}  // namespace

boost::json::object merge_map_patch(const std::map<std::string, std::string>& set,
                                    const std::vector<std::string>& remove) {
  boost::json::object out;
  for (const auto& [k, v] : set)
    out[k] = v;
  for (const auto& k : remove)
    out[k] = nullptr;
  return out;
}

const std::string* written_node(const Action& action) noexcept {
  return std::visit(
      [](const auto& kind) -> const std::string* {
        using T = std::decay_t<decltype(kind)>;
        if constexpr (std::is_same_v<T, LabelNode> || std::is_same_v<T, AnnotateNode> ||
                      std::is_same_v<T, SetCordon> || std::is_same_v<T, AddTaint> ||
                      std::is_same_v<T, RemoveTaint>) {
          return &kind.node;
        } else {
          return nullptr;
        }
      },
      action.kind);
}

bool is_node_object_write(const Action& action) noexcept {
  return written_node(action) != nullptr;
}

std::vector<std::vector<Action>> batch_node_writes(const std::vector<Action>& actions) {
  std::vector<std::vector<Action>> runs;
  for (const auto& action : actions) {
    const auto* node = written_node(action);
    const auto* last = runs.empty() ? nullptr : written_node(runs.back().back());
    if (node != nullptr && last != nullptr && *node == *last) {
      runs.back().push_back(action);
    } else {
      runs.push_back({action});
    }
  }
  return runs;
}

bool edits_taints(const std::vector<Action>& writes) noexcept {
  return std::any_of(writes.begin(), writes.end(), [](const Action& a) {
    return std::holds_alternative<AddTaint>(a.kind) || std::holds_alternative<RemoveTaint>(a.kind);
  });
}

NodePatch node_merge_patch(const std::vector<Action>& writes, const boost::json::array& taints) {
  boost::json::object labels;
  boost::json::object annotations;
  std::optional<bool> unschedulable;
  boost::json::array new_taints = taints;
  for (const auto& action : writes) {
    const auto& k = action.kind;
    if (const auto* a = std::get_if<LabelNode>(&k))
      merge_into(labels, a->set, a->remove);
    if (const auto* a = std::get_if<AnnotateNode>(&k))
      merge_into(annotations, a->set, a->remove);
    if (const auto* a = std::get_if<SetCordon>(&k))
      unschedulable = a->unschedulable;
    if (const auto* a = std::get_if<AddTaint>(&k))
      edit_taint(new_taints, a->taint, true);
    if (const auto* a = std::get_if<RemoveTaint>(&k))
      edit_taint(new_taints, a->taint, false);
  }
  NodePatch patch;
  boost::json::object meta;
  if (!labels.empty())
    meta["labels"] = std::move(labels);
  if (!annotations.empty())
    meta["annotations"] = std::move(annotations);
  boost::json::object spec;
  // Uncordon removes the field, as `kubectl uncordon` does.
  if (unschedulable)
    spec["unschedulable"] = *unschedulable ? boost::json::value(true) : boost::json::value(nullptr);
  if (edits_taints(writes) && new_taints != taints) {
    spec["taints"] =
        new_taints.empty() ? boost::json::value(nullptr) : boost::json::value(new_taints);
    patch.replaces_taints = true;
  }
  if (!meta.empty())
    patch.body["metadata"] = std::move(meta);
  if (!spec.empty())
    patch.body["spec"] = std::move(spec);
  return patch;
}

}  // namespace cnimig::agent
