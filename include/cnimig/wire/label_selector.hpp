#pragma once
// Kubernetes label selectors: the query-string syntax (`a=b,c!=d,e in (f,g),
// h notin (i),j,!k`) and the JSON LabelSelector (matchLabels/matchExpressions)
// that PDBs, DaemonSets and Deployments carry.

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"

namespace cnimig::wire {

class LabelSelector {
 public:
  enum class Op { equals, not_equals, in, not_in, exists, does_not_exist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };

  static Result<LabelSelector> parse(std::string_view text);
  // A null or empty JSON selector matches everything (as in list options);
  // PDB semantics (empty selects all in namespace) are the caller's to decide.
  static Result<LabelSelector> from_json(const boost::json::object& selector);

  bool matches(const boost::json::object* labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

// Field selectors: `metadata.name=x,spec.nodeName!=y`; any dotted path to a
// string/number/bool field is accepted (the real server accepts a per-kind subset).
class FieldSelector {
 public:
  struct Requirement {
    std::vector<std::string> path;
    bool equals;
    std::string value;
  };
  static Result<FieldSelector> parse(std::string_view text);
  bool matches(const boost::json::object& obj) const;
  bool empty() const { return requirements_.empty(); }
  // The value when the selector pins spec.nodeName (lets lists use the node index).
  const std::string* node_name() const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace cnimig::wire
