#pragma once
// `cnimig-agent status`: where a migration stands, derived the way the
// driver derives it. A pure function of a snapshot (built from one listing of
// nodes, pods and workloads with the driver's projection) and the Lease as
// read: each node's phase (migrate::node_phase), per-step progress, the
// Lease holder, and what a rerun would do next (the core's next decision).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/decision.hpp"
#include "cnimig/migrate/migration_settings.hpp"

namespace cnimig::agent {

// spec of the coordination.k8s.io/v1 Lease, as read.
struct LeaseStatus {
  std::string name;  // namespace/name
  bool exists = false;
  std::string holder;      // spec.holderIdentity
  std::string renew_time;  // spec.renewTime (RFC 3339, as the API wrote it)
  std::int64_t duration_seconds = 0;
  // renew_time + duration is still ahead of the API server's clock.
  bool live = false;
  std::int64_t seconds_since_renewal = -1;  // -1: unknown
};

LeaseStatus lease_status(const std::string& name, const boost::json::object* lease,
                         std::int64_t server_now);

struct StepProgress {
  migrate::StepId step = migrate::StepId::preflight;
  migrate::StepState state = migrate::StepState::pending;
  std::size_t nodes_done = 0;          // nodes past the step (node steps, prepare, cleanup)
  std::vector<std::string> in_flight;  // "node-2 (roll-draining)"
};

struct NodeStatus {
  std::string name;
  migrate::NodePhase phase = migrate::NodePhase::unprepared;
  bool unschedulable = false;
  bool ready = true;
};

struct StatusReport {
  std::size_t nodes_total = 0;
  std::vector<StepProgress> steps;  // all six, in order
  std::optional<migrate::StepId> current_step;
  std::vector<NodeStatus> nodes;
  LeaseStatus lease;
  // What a rerun would do first: a connectivity check (no write before a
  // passing one in a run), then `next`, the core's decision on this snapshot
  // once that check passed. Empty when finished.
  bool needs_check_first = false;
  std::vector<std::string> next;     // describe() of the first actions
  std::vector<std::string> waiting;  // "gate: pending, ..." when it would wait instead
  std::optional<std::string> halt;   // the reason a rerun would halt
  bool finished = false;
};

// `next_limit` caps `next` (the first actions of a decision can be hundreds).
// `server_now`: the API server's clock (Unix seconds), as a run reads it.
StatusReport make_status(const migrate::ClusterSnapshot& snapshot, std::int64_t server_now,
                         const migrate::MigrationSettings& settings, const migrate::Budget& budget,
                         LeaseStatus lease, std::size_t next_limit);

std::string render_status_table(const StatusReport& report);
boost::json::object status_json(const StatusReport& report);

}  // namespace cnimig::agent
