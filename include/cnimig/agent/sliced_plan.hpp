#pragma once
// Plan mode's computation as a good citizen of the io_context: the plan of a
// 5,000-node cluster computes for a while, and meanwhile a signal's handler
// (which stops the run: a plan has written nothing) must still run. So the
// plan advances a slice of rounds at a time and returns to the executor in
// between; a cancellation through the awaiting coroutine's slot ends it at
// the next slice boundary.

#include <cstddef>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "cnimig/migrate/simulated_effects.hpp"

namespace cnimig::agent {

// The finished plan, or nullopt when cancelled first.
boost::asio::awaitable<std::optional<migrate::PlanRun>> run_plan_sliced(
    migrate::PlanRunner& runner, std::size_t rounds_per_slice);

}  // namespace cnimig::agent
