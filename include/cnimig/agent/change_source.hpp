#pragma once
// What the driver reads the cluster from: the watch-fed view and the signal
// that wakes it when the view (or anything else it waits on) changes.
// ClusterCache is the real one; the driver's unit test has its own.

#include <string_view>

#include <boost/json/object.hpp>

#include "cnimig/agent/change_signal.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/node_index.hpp"

namespace cnimig::agent {

class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  // Owned and updated by the source alone.
  virtual const migrate::ClusterSnapshot& snapshot() const = 0;
  virtual ChangeSignal& changes() = 0;
  // Read-your-writes: the API's answer to one of the run's writes (a Node or
  // a workload: `kind`), shown at once rather than when the watch brings it.
  virtual void apply_written(std::string_view kind, const boost::json::object& object) = 0;
  // Where a cut-off annotation this run wrote on `node` falls in the pods'
  // resourceVersion order (migrate::NodeState::cutoff_orders), shown while
  // the node keeps that value. A source that does not keep it leaves the
  // core to the cut-off's second.
  virtual void note_cutoff_order(const std::string& /*node*/, const std::string& /*annotation*/,
                                 const migrate::CutoffOrder& /*order*/) {}
  // The nodes whose labels, annotations, taints, cordon or pods changed (or
  // that appeared or went) since the last call; the driver re-derives only
  // those. A source that does not keep track says: all of them.
  virtual migrate::TouchedNodes take_touched_nodes() { return migrate::TouchedNodes::everything(); }
};

}  // namespace cnimig::agent
