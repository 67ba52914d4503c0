#include "kubelet_model.hpp"

#include "cluster_bootstrap.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {
// A Ready condition at all: the node's kubelet has reported (True or False).
bool has_condition(const json::object& node, std::string_view type) {
  if (const auto* conds = arr(status(node), "conditions"))
    for (const auto& c : *conds)
      if (c.is_object() && str(&c.get_object(), "type") == type)
        return true;
  return false;
}
}  // namespace

KubeletModel::KubeletModel(boost::asio::io_context& io, ControllerContext& ctx)
    : io_(io), ctx_(ctx), timer_(io) {}

KubeletModel::~KubeletModel() {
  *alive_ = false;
  timer_.cancel();
}

std::size_t KubeletModel::waiting_for_network() const {
  std::size_t n = 0;
  for (const auto& [node, set] : waiting_)
    n += set.size();
  return n;
}

void KubeletModel::schedule(Clock::duration delay, Step step, std::string key, std::string uid) {
  queue_.emplace(Clock::now() + delay, Task{step, std::move(key), std::move(uid)});
  arm();
}

void KubeletModel::arm() {
  if (queue_.empty())
    return;
  const auto first = queue_.begin()->first;
  if (first >= armed_for_)
    return;
  armed_for_ = first;
  timer_.expires_at(first);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || ec)
      return;
    armed_for_ = Clock::time_point::max();
    run_due();
  });
}

void KubeletModel::run_due() {
  const auto now = Clock::now();
  while (!queue_.empty() && queue_.begin()->first <= now) {
    auto task = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    switch (task.step) {
      case Step::start:
        start(task);
        break;
      case Step::ready:
        make_ready(task);
        break;
      case Step::remove:
        remove(task);
        break;
      case Step::register_node:
        register_node(task);
        break;
    }
  }
  arm();
}

ObjectPtr KubeletModel::current(const Task& task) const {
  auto pod = ctx_.store.get(ctx_.pods, task.key);
  if (!pod || uid(*pod) != task.uid)
    return nullptr;
  return pod;
}

void KubeletModel::observe(const Change& change) {
  if (change.resource == &ctx_.nodes && change.type == ChangeType::added &&
      !ctx_.options.kubelet_only && !has_condition(*change.object, "Ready")) {
    schedule(scaled(ctx_.options, ctx_.options.pod_start_delay), Step::register_node,
             std::string(name(*change.object)), std::string(uid(*change.object)));
    return;
  }
  if (change.resource != &ctx_.pods)
    return;
  if (change.type == ChangeType::deleted) {
    const auto u = std::string(uid(*change.object));
    started_.erase(u);
    removing_.erase(u);
    if (auto it = waiting_.find(std::string(node_name(*change.object))); it != waiting_.end())
      it->second.erase({key(*change.object), u});
    return;
  }
  const auto& pod = *change.object;
  const auto node = node_name(pod);
  if (node.empty())
    return;
  std::string u(uid(pod));
  if (deleting(pod)) {
    if (removing_.insert(u).second) {
      const auto grace = integer(meta(pod), "deletionGracePeriodSeconds", 30);
      schedule(grace == 0 ? Clock::duration::zero()
                          : scaled(ctx_.options, ctx_.options.termination_delay),
               Step::remove, key(pod), std::move(u));
    }
    return;
  }
  if (started_.insert(u).second)
    schedule(scaled(ctx_.options, ctx_.options.pod_start_delay), Step::start, key(pod),
             std::move(u));
}

void KubeletModel::network_changed(const std::string& node) {
  recheck_agent_readiness(node);
  auto it = waiting_.find(node);
  if (it == waiting_.end())
    return;
  auto waiting = std::move(it->second);
  waiting_.erase(it);
  for (auto& [k, u] : waiting)
    schedule(Clock::duration::zero(), Step::start, k, u);
}

bool KubeletModel::never_ready(std::string_view node) const {
  auto f = ctx_.options.faults.find("never-ready-node");
  return f != ctx_.options.faults.end() && f->second == node;
}

void KubeletModel::readiness_restored(const std::string& node) {
  if (never_ready(node))
    return;
  for (const auto& pod : ctx_.store.pods_on_node(node)) {
    if (deleting(*pod) || pod_ready(*pod) || str(status(*pod), "phase") != "Running")
      continue;
    const bool agent = ctx_.network.agent_role_of(*pod).has_value();
    schedule(
        scaled(ctx_.options, agent ? ctx_.options.agent_ready_delay : ctx_.options.pod_ready_delay),
        Step::ready, key(*pod), std::string(uid(*pod)));
  }
}

namespace {
json::array container_statuses(const json::object& pod, bool ready, const std::string& started_at) {
  json::array out;
  if (const auto* cs = arr(spec(pod), "containers"))
    for (const auto& c : *cs) {
      if (!c.is_object())
        continue;
      const auto cname = str(&c.get_object(), "name");
      const auto image = str(&c.get_object(), "image");
      out.push_back(json::object{
          {"name", cname},
          {"image", image},
          {"imageID", std::string(image) + "@sha256:0000"},
          {"containerID",
           "containerd://" + std::string(uid(pod)).substr(0, 8) + std::string(cname)},
          {"ready", ready},
          {"started", true},
          {"restartCount", 0},
          {"state", json::object{{"running", json::object{{"startedAt", started_at}}}}}});
    }
  return out;
}
json::object condition(std::string_view type, bool value, const std::string& at) {
  return json::object{{"type", type},
                      {"status", value ? "True" : "False"},
                      {"lastProbeTime", nullptr},
                      {"lastTransitionTime", at}};
}

// The pod while its sandbox cannot be created: Pending, each container
// waiting in ContainerCreating.
json::object container_creating(const json::object& pod, const std::string& host_ip) {
  json::object next = pod;
  auto& st = next["status"];
  if (!st.is_object())
    st = json::object{};
  auto& s = st.as_object();
  s["hostIP"] = host_ip;
  s["hostIPs"] = json::array{json::object{{"ip", host_ip}}};
  json::array waiting;
  if (const auto* cs = arr(spec(pod), "containers"))
    for (const auto& c : *cs)
      if (c.is_object())
        waiting.push_back(json::object{
            {"name", str(&c.get_object(), "name")},
            {"image", str(&c.get_object(), "image")},
            {"imageID", ""},
            {"ready", false},
            {"started", false},
            {"restartCount", 0},
            {"state", json::object{{"waiting", json::object{{"reason", "ContainerCreating"}}}}}});
  s["containerStatuses"] = std::move(waiting);
  return next;
}

// The pod with its sandbox's interfaces recorded in its annotations (and, with
// a second network, multus's network-status).
json::object with_interfaces(const json::object& pod, const SandboxNetwork& sandbox) {
  json::object next = pod;
  auto& meta_obj = next["metadata"].as_object();
  auto& ann = meta_obj["annotations"];
  if (!ann.is_object())
    ann = json::object{};
  auto& a = ann.as_object();
  a[interfaces_annotation] = NetworkModel::interfaces_text(sandbox.interfaces);
  json::array status_list{json::object{{"name", to_string(sandbox.interfaces.primary)},
                                       {"interface", "eth0"},
                                       {"ips", json::array{sandbox.pod_ip}},
                                       {"default", true}}};
  if (!sandbox.secondary_ip.empty()) {
    a[secondary_ip_annotation] = sandbox.secondary_ip;
    status_list.push_back(json::object{
        {"name", to_string(sandbox.interfaces.primary == Network::source ? Network::cilium
                                                                         : Network::source)},
        {"interface", "net1"},
        {"ips", json::array{sandbox.secondary_ip}}});
    a[network_status_annotation] = json::serialize(status_list);
  }
  meta_obj.erase("resourceVersion");
  return next;
}

// The pod Running with its IPs, its containers started and not Ready yet.
json::object running(const json::object& pod, const std::string& host_ip, const std::string& pod_ip,
                     const std::string& now) {
  json::object next = pod;
  auto& st = next["status"];
  if (!st.is_object())
    st = json::object{};
  auto& s = st.as_object();
  s["phase"] = "Running";
  s["hostIP"] = host_ip;
  s["hostIPs"] = json::array{json::object{{"ip", host_ip}}};
  s["podIP"] = pod_ip;
  s["podIPs"] = json::array{json::object{{"ip", pod_ip}}};
  s["startTime"] = now;
  s["conditions"] =
      json::array{condition("PodReadyToStartContainers", true, now),
                  condition("Initialized", true, now), condition("Ready", false, now),
                  condition("ContainersReady", false, now), condition("PodScheduled", true, now)};
  s["containerStatuses"] = container_statuses(pod, false, now);
  return next;
}
}  // namespace

void KubeletModel::start(const Task& task) {
  auto pod = current(task);
  if (!pod || deleting(*pod))
    return;
  const std::string node(node_name(*pod));
  const auto now = rfc3339_now();
  const auto host_ip = ctx_.network.node_ip(node);
  std::string pod_ip = host_ip;
  if (!host_network(*pod)) {
    std::string failure;
    auto sandbox = ctx_.network.create_sandbox(node, &failure);
    if (!sandbox) {
      // ContainerCreating until the node's CNI changes (FailedCreatePodSandBox).
      waiting_[node].insert({task.key, task.uid});
      (void)ctx_.store.update_status(ctx_.pods, container_creating(*pod, host_ip));
      return;
    }
    auto updated = ctx_.store.update(ctx_.pods, with_interfaces(*pod, *sandbox));
    if (!updated)
      return;
    pod = *updated;
    pod_ip = sandbox->pod_ip;
  }
  (void)ctx_.store.update_status(ctx_.pods, running(*pod, host_ip, pod_ip, now));
  // The never-ready-node fault: containers run, readiness never passes.
  if (never_ready(node))
    return;
  const bool agent = ctx_.network.agent_role_of(*pod).has_value();
  schedule(
      scaled(ctx_.options, agent ? ctx_.options.agent_ready_delay : ctx_.options.pod_ready_delay),
      Step::ready, task.key, task.uid);
}

void KubeletModel::make_ready(const Task& task) {
  auto pod = current(task);
  // The fault may have been set (PUT /sim/v1/faults) after this was scheduled.
  if (!pod || deleting(*pod) || pod_ready(*pod) || never_ready(node_name(*pod)) ||
      ctx_.network.agent_ready_blocked(*pod))
    return;
  set_readiness(*pod, true);
}

void KubeletModel::register_node(const Task& task) {
  auto node = ctx_.store.get(ctx_.nodes, "", task.key);
  if (!node || uid(*node) != task.uid || has_condition(*node, "Ready"))
    return;
  json::object next = *node;
  auto reported = node_status(task.key, ctx_.network.node_ip(task.key),
                              ctx_.options.kernel_version_of(task.key));
  auto& st = next["status"];
  if (!st.is_object())
    st = json::object{};
  // What the manifest gave (e.g. capacity) stays; the kubelet adds the rest.
  for (auto& [k, v] : reported)
    if (!st.as_object().contains(k) || k == "conditions")
      st.as_object()[k] = std::move(v);
  (void)ctx_.store.update_status(ctx_.nodes, std::move(next));
}

void KubeletModel::remove(const Task& task) {
  auto pod = current(task);
  if (!pod)
    return;
  (void)ctx_.store.remove(ctx_.pods, ns(*pod), name(*pod));
}

}  // namespace cnimig::sim
