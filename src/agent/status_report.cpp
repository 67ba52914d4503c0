// `cnimig-agent status`, the pure half: the report from a snapshot and the
// Lease, and its two renderings.

#include "cnimig/agent/status_report.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/lease/lease_policy.hpp"
#include "cnimig/migrate/planner.hpp"

namespace cnimig::agent {
namespace {

using migrate::NodePhase;
using migrate::StepId;

namespace json = boost::json;

// The phases a node is in while a step works on it, and the first phase
// past it (NodePhase is declared in migration order).
struct PhaseRange {
  NodePhase first;
  NodePhase done;
};

std::optional<PhaseRange> range_of(StepId step) {
  switch (step) {
    case StepId::prepare:
      return PhaseRange{NodePhase::prepared, NodePhase::prepared};
    case StepId::roll:
      return PhaseRange{NodePhase::roll_started, NodePhase::rolled};
    case StepId::priority:
      return PhaseRange{NodePhase::priority_started, NodePhase::prioritised};
    case StepId::migrate:
      return PhaseRange{NodePhase::migrate_started, NodePhase::migrated};
    case StepId::cleanup:
      return PhaseRange{NodePhase::cleaned, NodePhase::cleaned};
    case StepId::preflight:
      break;
  }
  return std::nullopt;
}

std::string spec_string(const json::object& spec, std::string_view key) {
  const auto* v = spec.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

void describe_decision(const migrate::Decision& d, std::size_t limit, StatusReport& out) {
  out.finished = d.finished();
  if (const auto* reason = d.halt_reason())
    out.halt = *reason;
  for (const auto& a : d.actions()) {
    if (out.next.size() < limit)
      out.next.push_back(migrate::describe(a));
  }
  if (!out.next.empty())
    return;
  for (const auto& w : d.waits) {
    if (const auto* wait = std::get_if<migrate::WaitFor>(&w.kind)) {
      std::string pending;
      for (const auto& p : wait->pending)
        pending += (pending.empty() ? "" : ", ") + p;
      out.waiting.push_back((w.node.empty() ? "" : w.node + ": ") +
                            std::string(migrate::to_string(wait->gate)) +
                            (pending.empty() ? "" : " (" + pending + ")"));
    }
  }
}

}  // namespace

LeaseStatus lease_status(const std::string& name, const json::object* lease,
                         std::int64_t server_now) {
  LeaseStatus out;
  out.name = name;
  if (lease == nullptr)
    return out;
  out.exists = true;
  const auto* spec_value = lease->if_contains("spec");
  if (spec_value == nullptr || !spec_value->is_object())
    return out;
  const auto& spec = spec_value->get_object();
  // The keeper's own reading of the Lease, so status calls it live exactly
  // when a second agent would be refused.
  const lease::LeaseRecord record = lease::lease_record(*lease);
  out.holder = record.holder_identity;
  out.renew_time = spec_string(spec, "renewTime");
  out.duration_seconds = record.duration.count();
  const std::chrono::system_clock::time_point now{std::chrono::seconds(server_now)};
  if (record.renew_time) {
    out.seconds_since_renewal =
        std::chrono::duration_cast<std::chrono::seconds>(now - *record.renew_time).count();
  }
  // Live exactly when an agent that is not the holder would be refused.
  out.live = lease::decide_lease(record, std::string(), now).verdict == lease::LeaseVerdict::refuse;
  return out;
}

StatusReport make_status(const migrate::ClusterSnapshot& snapshot, std::int64_t server_now,
                         const migrate::MigrationSettings& settings, const migrate::Budget& budget,
                         LeaseStatus lease, std::size_t next_limit) {
  StatusReport out;
  out.lease = std::move(lease);
  out.nodes_total = snapshot.nodes.size();
  const migrate::Selection all;
  // What a new process would decide: a record with nothing in it yet.
  migrate::RunRecord record;
  record.now = server_now;
  auto d = migrate::next_actions(snapshot, record, settings, budget, all);
  out.current_step = d.current_step;
  for (const auto& [name, node] : snapshot.nodes) {
    out.nodes.push_back(NodeStatus{name, d.node_phases.at(name), node.unschedulable, node.ready});
  }
  for (StepId step : migrate::kAllSteps) {
    StepProgress p;
    p.step = step;
    p.state = d.steps[static_cast<std::size_t>(step)];
    if (const auto range = range_of(step)) {
      for (const auto& n : out.nodes) {
        if (n.phase >= range->done) {
          ++p.nodes_done;
        } else if (n.phase >= range->first && n.phase != NodePhase::native_pending) {
          p.in_flight.push_back(n.name + " (" + std::string(migrate::to_string(n.phase)) + ")");
        }
      }
    }
    out.steps.push_back(std::move(p));
  }
  // A run writes nothing before a connectivity check passes in that run:
  // show what it decides once its check passed.
  const bool only_check = !d.actions().empty() &&
                          std::all_of(d.actions().begin(), d.actions().end(), [](const auto& a) {
                            return std::holds_alternative<migrate::RunConnectivityCheck>(a.kind);
                          });
  if (only_check) {
    out.needs_check_first = true;
    auto checked = record;
    checked.last_check = migrate::check_starting(checked);
    checked.last_check->passed = true;
    d = migrate::next_actions(snapshot, checked, settings, budget, all);
  }
  describe_decision(d, next_limit, out);
  return out;
}

std::string render_status_table(const StatusReport& r) {
  std::ostringstream o;
  const auto& l = r.lease;
  o << "Lease " << l.name << ": ";
  if (!l.exists || l.holder.empty()) {
    o << "not held";
  } else {
    o << "held by " << l.holder << (l.live ? "" : " (expired: a new run takes it over)")
      << ", renewed " << l.renew_time;
    if (l.seconds_since_renewal >= 0)
      o << " (" << l.seconds_since_renewal << "s ago, duration " << l.duration_seconds << "s)";
  }
  o << "\n\n"
    << std::left << std::setw(11) << "STEP" << std::setw(14) << "STATE" << std::setw(12)
    << "NODES DONE"
    << "IN FLIGHT\n";
  for (const auto& s : r.steps) {
    const bool counted = range_of(s.step).has_value();
    std::string in_flight;
    for (const auto& n : s.in_flight)
      in_flight += (in_flight.empty() ? "" : ", ") + n;
    o << std::setw(11) << migrate::to_string(s.step) << std::setw(14) << migrate::to_string(s.state)
      << std::setw(12)
      << (counted ? std::to_string(s.nodes_done) + "/" + std::to_string(r.nodes_total) : "-")
      << in_flight << "\n";
  }
  o << "\n"
    << std::setw(24) << "NODE" << std::setw(28) << "PHASE"
    << "CORDONED  READY\n";
  for (const auto& n : r.nodes) {
    o << std::setw(24) << n.name << std::setw(28) << migrate::to_string(n.phase) << std::setw(10)
      << (n.unschedulable ? "yes" : "no") << (n.ready ? "yes" : "no") << "\n";
  }
  o << "\nA rerun would ";
  if (r.finished) {
    o << "find every step done.\n";
  } else if (r.halt) {
    o << "halt: " << *r.halt << "\n";
  } else {
    o << (r.needs_check_first ? "run a connectivity check, then " : "");
    if (!r.next.empty()) {
      o << "start with:\n";
      for (const auto& n : r.next)
        o << "  " << n << "\n";
    } else {
      o << "wait for:\n";
      for (const auto& w : r.waiting)
        o << "  " << w << "\n";
    }
  }
  return o.str();
}

json::object status_json(const StatusReport& r) {
  json::object lease{{"name", r.lease.name},
                     {"exists", r.lease.exists},
                     {"holder", r.lease.holder},
                     {"renew_time", r.lease.renew_time},
                     {"live", r.lease.live},
                     {"duration_seconds", r.lease.duration_seconds},
                     {"seconds_since_renewal", r.lease.seconds_since_renewal}};
  json::array steps;
  for (const auto& s : r.steps) {
    json::array in_flight;
    for (const auto& n : s.in_flight)
      in_flight.emplace_back(n);
    json::object step{{"step", migrate::to_string(s.step)},
                      {"state", migrate::to_string(s.state)},
                      {"in_flight", std::move(in_flight)}};
    if (range_of(s.step))
      step["nodes_done"] = s.nodes_done;
    steps.emplace_back(std::move(step));
  }
  json::array nodes;
  for (const auto& n : r.nodes) {
    nodes.emplace_back(json::object{{"name", n.name},
                                    {"phase", migrate::to_string(n.phase)},
                                    {"unschedulable", n.unschedulable},
                                    {"ready", n.ready}});
  }
  json::array next(r.next.begin(), r.next.end());
  json::array waiting(r.waiting.begin(), r.waiting.end());
  json::object out{{"nodes_total", r.nodes_total}, {"lease", std::move(lease)},
                   {"steps", std::move(steps)},    {"nodes", std::move(nodes)},
                   {"finished", r.finished},       {"needs_check_first", r.needs_check_first},
                   {"next", std::move(next)},      {"waiting", std::move(waiting)}};
  out["current_step"] =
      r.current_step ? json::value(migrate::to_string(*r.current_step)) : json::value(nullptr);
  out["halt"] = r.halt ? json::value(*r.halt) : json::value(nullptr);
  return out;
}

}  // namespace cnimig::agent
