#pragma once
// What a coroutine's completion handler reports when the coroutine ended by
// an exception: co_spawn hands the handler an exception_ptr, and every
// top-level handler (the agent's run, the status command, the simulator's
// accept loop) logs it the same way.

#include <exception>
#include <string>

namespace cnimig {

// The exception's what(), or a fixed text for one not derived from
// std::exception. `e` must not be null.
std::string exception_message(std::exception_ptr e);

}  // namespace cnimig
