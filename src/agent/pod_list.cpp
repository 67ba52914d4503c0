#include "cnimig/agent/pod_list.hpp"

namespace cnimig::agent {

void append_pod(std::vector<migrate::PodState>& list, migrate::PodState pod) {
  if (list.size() == list.capacity())
    list.reserve(list.size() + kPodListSlack);
  list.push_back(std::move(pod));
}

}  // namespace cnimig::agent
