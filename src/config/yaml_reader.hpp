#pragma once
// Internal to the config loader: walks a YAML tree and collects every problem
// with its file, line and column, so one run reports all of them.

#include <chrono>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace cnimig::config::detail {

// The result of a read is only used when `problems()` stays empty.
class Reader {
 public:
  explicit Reader(std::filesystem::path file) : file_(std::move(file)) {}

  // "file:line:col: key: text".
  void problem(const YAML::Mark& mark, const std::string& key, const std::string& text);

  const std::vector<std::string>& problems() const { return problems_; }
  const std::filesystem::path& file() const { return file_; }

  // A mapping (or nothing: an absent or null section keeps its defaults).
  // Reports keys outside `allowed` (any key when empty) and keys given twice.
  bool mapping(const YAML::Node& node, const std::string& key,
               std::initializer_list<std::string_view> allowed, const YAML::Mark& parent_mark);

  // The value of `name` inside mapping `node`; sets `mark` to where it is (or
  // to the mapping, when absent, so "missing" errors still point somewhere).
  YAML::Node child(const YAML::Node& node, std::string_view name, YAML::Mark& mark);

  bool string(const YAML::Node& node, const std::string& key, const YAML::Mark& mark,
              std::string& out, bool allow_empty = false);
  void positive(const YAML::Node& node, const std::string& key, const YAML::Mark& mark,
                unsigned& out, unsigned max);
  // YAML 1.2 core schema booleans only ("yes"/"on" are strings there).
  void boolean(const YAML::Node& node, const std::string& key, const YAML::Mark& mark, bool& out);
  // Returns whether `node` held a valid duration (then stored in `out`).
  bool duration(const YAML::Node& node, const std::string& key, const YAML::Mark& mark,
                std::chrono::milliseconds& out);

  static std::string join(const std::string& parent, std::string_view key);
  static std::string kind_of(const YAML::Node& node);
  static std::string describe(const YAML::Node& node) { return kind_of(node); }
  static YAML::Mark mark_of(const YAML::Node& node, const YAML::Mark& fallback) {
    return node.Mark().is_null() ? fallback : node.Mark();
  }

 private:
  std::filesystem::path file_;
  std::vector<std::string> problems_;
};

}  // namespace cnimig::config::detail
