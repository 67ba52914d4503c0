#pragma once
// A node taint (core/v1 Taint without timeAdded).

#include <string>

namespace cnimig::migrate {

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute

  friend bool operator==(const Taint&, const Taint&) = default;
};

}  // namespace cnimig::migrate
