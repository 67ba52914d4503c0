#include "patch.hpp"

#include <algorithm>
#include <string>

#include <boost/json.hpp>

namespace cnimig::sim {
namespace json = boost::json;

namespace {

Error patch_error(std::string message) {
  return make_error(Errc::invalid, 422, "Invalid", std::move(message));
}

}  // namespace

json::value json_merge_patch(json::value target, const json::value& patch) {
  if (!patch.is_object())
    return patch;
  if (!target.is_object())
    target = json::object();
  auto& t = target.get_object();
  for (const auto& [k, v] : patch.get_object()) {
    if (v.is_null()) {
      t.erase(k);
    } else {
      auto it = t.find(k);
      t[k] = json_merge_patch(it == t.end() ? json::value() : std::move(it->value()), v);
    }
  }
  return target;
}

namespace {

// RFC 6901 pointer to tokens.
Result<std::vector<std::string>> pointer_tokens(std::string_view ptr) {
  std::vector<std::string> out;
  if (ptr.empty())
    return out;
  if (ptr.front() != '/')
    return patch_error("json patch: path must start with '/': " + std::string(ptr));
  std::size_t start = 1;
  while (true) {
    auto slash = ptr.find('/', start);
    std::string tok(ptr.substr(start, slash == ptr.npos ? ptr.npos : slash - start));
    std::string decoded;
    for (std::size_t i = 0; i < tok.size(); ++i) {
      if (tok[i] == '~' && i + 1 < tok.size()) {
        decoded.push_back(tok[i + 1] == '1' ? '/' : '~');
        ++i;
      } else {
        decoded.push_back(tok[i]);
      }
    }
    out.push_back(std::move(decoded));
    if (slash == ptr.npos)
      break;
    start = slash + 1;
  }
  return out;
}

Result<std::size_t> array_index(const json::array& a, const std::string& tok, bool allow_end) {
  if (tok == "-" && allow_end)
    return a.size();
  if (tok.empty() || !std::all_of(tok.begin(), tok.end(), ::isdigit))
    return patch_error("json patch: bad array index " + tok);
  auto i = std::stoul(tok);
  if (i > a.size() || (!allow_end && i == a.size()))
    return patch_error("json patch: array index out of range " + tok);
  return i;
}

// Returns the parent container of the pointer's last token.
Result<json::value*> parent_of(json::value& root, const std::vector<std::string>& toks) {
  json::value* cur = &root;
  for (std::size_t i = 0; i + 1 < toks.size(); ++i) {
    if (auto* o = cur->if_object()) {
      auto it = o->find(toks[i]);
      if (it == o->end())
        return patch_error("json patch: missing path segment " + toks[i]);
      cur = &it->value();
    } else if (auto* a = cur->if_array()) {
      auto idx = array_index(*a, toks[i], false);
      if (!idx)
        return idx.error();
      cur = &(*a)[*idx];
    } else {
      return patch_error("json patch: path crosses a scalar at " + toks[i]);
    }
  }
  return cur;
}

Result<json::value> get_at(json::value& root, const std::vector<std::string>& toks) {
  if (toks.empty())
    return root;
  auto parent = parent_of(root, toks);
  if (!parent)
    return parent.error();
  if (auto* o = (*parent)->if_object()) {
    auto it = o->find(toks.back());
    if (it == o->end())
      return patch_error("json patch: path not found: " + toks.back());
    return it->value();
  }
  if (auto* a = (*parent)->if_array()) {
    auto idx = array_index(*a, toks.back(), false);
    if (!idx)
      return idx.error();
    return (*a)[*idx];
  }
  return patch_error("json patch: path crosses a scalar");
}

Result<void> remove_at(json::value& root, const std::vector<std::string>& toks) {
  if (toks.empty())
    return patch_error("json patch: cannot remove the root");
  auto parent = parent_of(root, toks);
  if (!parent)
    return parent.error();
  if (auto* o = (*parent)->if_object()) {
    if (!o->erase(toks.back()))
      return patch_error("json patch: path not found: " + toks.back());
    return {};
  }
  if (auto* a = (*parent)->if_array()) {
    auto idx = array_index(*a, toks.back(), false);
    if (!idx)
      return idx.error();
    a->erase(a->begin() + static_cast<std::ptrdiff_t>(*idx));
    return {};
  }
  return patch_error("json patch: path crosses a scalar");
}

Result<void> add_at(json::value& root, const std::vector<std::string>& toks, json::value v,
                    bool replace) {
  if (toks.empty()) {
    root = std::move(v);
    return {};
  }
  auto parent = parent_of(root, toks);
  if (!parent)
    return parent.error();
  if (auto* o = (*parent)->if_object()) {
    if (replace && !o->contains(toks.back()))
      return patch_error("json patch: replace of missing path " + toks.back());
    (*o)[toks.back()] = std::move(v);
    return {};
  }
  if (auto* a = (*parent)->if_array()) {
    auto idx = array_index(*a, toks.back(), !replace);
    if (!idx)
      return idx.error();
    if (replace)
      (*a)[*idx] = std::move(v);
    else
      a->insert(a->begin() + static_cast<std::ptrdiff_t>(*idx), std::move(v));
    return {};
  }
  return patch_error("json patch: path crosses a scalar");
}

}  // namespace

Result<json::value> json_patch(json::value target, const json::value& patch) {
  if (!patch.is_array())
    return patch_error("json patch: body must be an array of operations");
  for (const auto& opv : patch.get_array()) {
    const auto* op = opv.if_object();
    if (!op || !op->contains("op") || !op->at("op").is_string() || !op->contains("path") ||
        !op->at("path").is_string())
      return patch_error("json patch: each operation needs op and path");
    const std::string_view name = op->at("op").get_string();
    auto path = pointer_tokens(op->at("path").get_string());
    if (!path)
      return path.error();
    Result<void> r;
    if (name == "add" || name == "replace") {
      if (!op->contains("value"))
        return patch_error("json patch: " + std::string(name) + " needs a value");
      r = add_at(target, *path, op->at("value"), name == "replace");
    } else if (name == "remove") {
      r = remove_at(target, *path);
    } else if (name == "test") {
      auto v = get_at(target, *path);
      if (!v)
        return v.error();
      if (!op->contains("value") || *v != op->at("value"))
        return patch_error("json patch: test failed at " +
                           std::string(op->at("path").get_string()));
    } else if (name == "move" || name == "copy") {
      if (!op->contains("from") || !op->at("from").is_string())
        return patch_error("json patch: " + std::string(name) + " needs from");
      auto from = pointer_tokens(op->at("from").get_string());
      if (!from)
        return from.error();
      auto v = get_at(target, *from);
      if (!v)
        return v.error();
      if (name == "move") {
        if (auto rr = remove_at(target, *from); !rr)
          return rr.error();
      }
      r = add_at(target, *path, std::move(*v), false);
    } else {
      return patch_error("json patch: unknown op " + std::string(name));
    }
    if (!r)
      return r.error();
  }
  return target;
}

namespace {

// Merge keys of the built-in kinds' lists (patchMergeKey in the Kubernetes API
// types). Lists not named here are replaced wholesale, which is what the real
// server does for atomic lists such as tolerations and node taints.
const char* merge_key(std::string_view field, const json::array& sample) {
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "volumes" || field == "env" || field == "imagePullSecrets" ||
      field == "resourceClaims" || field == "readinessGates")
    return field == "readinessGates" ? "conditionType" : "name";
  if (field == "conditions")
    return "type";
  if (field == "volumeMounts" || field == "volumeDevices")
    return field == "volumeMounts" ? "mountPath" : "devicePath";
  if (field == "ownerReferences")
    return "uid";
  if (field == "hostAliases")
    return "ip";
  if (field == "topologySpreadConstraints")
    return "topologyKey";
  if (field == "ports") {
    // Container ports merge by containerPort, Service ports by port.
    for (const auto& e : sample) {
      if (const auto* o = e.if_object(); o && o->contains("containerPort"))
        return "containerPort";
    }
    return "port";
  }
  return nullptr;
}

// Primitive lists with patchStrategy merge (union of values).
bool merges_primitives(std::string_view field) {
  return field == "finalizers";
}

bool is_directive_element(const json::value& v, std::string_view directive) {
  const auto* o = v.if_object();
  if (!o)
    return false;
  const auto* p = o->if_contains("$patch");
  return p && p->is_string() && p->get_string() == directive;
}

Result<json::value> merge_value(json::value target, const json::value& patch,
                                std::string_view field);

Result<json::value> merge_list(json::value target, const json::array& patch,
                               std::string_view field) {
  json::array original = target.is_array() ? std::move(target.get_array()) : json::array();
  // `- $patch: replace` anywhere in the list replaces the whole list.
  if (std::any_of(patch.begin(), patch.end(),
                  [](const auto& e) { return is_directive_element(e, "replace"); })) {
    json::array out;
    for (const auto& e : patch) {
      if (!is_directive_element(e, "replace"))
        out.push_back(e);
    }
    return json::value(std::move(out));
  }
  const char* key = merge_key(field, patch.empty() ? original : patch);
  if (!key) {
    if (merges_primitives(field)) {
      for (const auto& e : patch) {
        if (std::find(original.begin(), original.end(), e) == original.end())
          original.push_back(e);
      }
      return json::value(std::move(original));
    }
    return json::value(patch);
  }
  for (const auto& e : patch) {
    const auto* po = e.if_object();
    if (!po || !po->contains(key)) {
      return patch_error("strategic merge patch: element of " + std::string(field) +
                         " lacks merge key " + key);
    }
    const auto& kv = po->at(key);
    auto it = std::find_if(original.begin(), original.end(), [&](const json::value& o) {
      const auto* oo = o.if_object();
      return oo && oo->contains(key) && oo->at(key) == kv;
    });
    if (is_directive_element(e, "delete")) {
      if (it != original.end())
        original.erase(it);
      continue;
    }
    if (it == original.end()) {
      auto merged = merge_value(json::object(), e, field);
      if (!merged)
        return merged.error();
      original.push_back(std::move(*merged));
    } else {
      auto merged = merge_value(std::move(*it), e, field);
      if (!merged)
        return merged.error();
      *it = std::move(*merged);
    }
  }
  return json::value(std::move(original));
}

Result<json::value> merge_value(json::value target, const json::value& patch,
                                std::string_view field) {
  if (patch.is_array())
    return merge_list(std::move(target), patch.get_array(), field);
  if (!patch.is_object())
    return patch;
  const auto& p = patch.get_object();
  if (const auto* d = p.if_contains("$patch"); d && d->is_string()) {
    if (d->get_string() == "replace") {
      json::object out = p;
      out.erase("$patch");
      return json::value(std::move(out));
    }
    if (d->get_string() == "delete")
      return json::value(nullptr);  // caller removes the field
  }
  json::object t = target.is_object() ? std::move(target.get_object()) : json::object();
  if (const auto* rk = p.if_contains("$retainKeys"); rk && rk->is_array()) {
    std::vector<std::string> keep;
    for (const auto& k : rk->get_array()) {
      if (k.is_string())
        keep.emplace_back(k.get_string());
    }
    for (auto it = t.begin(); it != t.end();) {
      if (std::find(keep.begin(), keep.end(), std::string_view(it->key())) == keep.end())
        it = t.erase(it);
      else
        ++it;
    }
  }
  for (const auto& [k, v] : p) {
    const std::string_view key = k;
    if (key == "$patch" || key == "$retainKeys" || key.starts_with("$setElementOrder/"))
      continue;
    if (key.starts_with("$deleteFromPrimitiveList/")) {
      const auto list_name = key.substr(std::string_view("$deleteFromPrimitiveList/").size());
      if (auto* list = t.if_contains(list_name); list && list->is_array() && v.is_array()) {
        auto& a = list->get_array();
        for (const auto& del : v.get_array())
          a.erase(std::remove(a.begin(), a.end(), del), a.end());
      }
      continue;
    }
    if (v.is_null()) {
      t.erase(key);
      continue;
    }
    auto it = t.find(key);
    auto merged = merge_value(it == t.end() ? json::value() : std::move(it->value()), v, key);
    if (!merged)
      return merged.error();
    if (merged->is_null() && v.is_object())
      t.erase(key);  // `$patch: delete` on a map
    else
      t[key] = std::move(*merged);
  }
  return json::value(std::move(t));
}

}  // namespace

Result<json::value> strategic_merge_patch(json::value target, const json::value& patch) {
  if (!patch.is_object())
    return patch_error("strategic merge patch: body must be a JSON object");
  return merge_value(std::move(target), patch, {});
}

}  // namespace cnimig::sim
