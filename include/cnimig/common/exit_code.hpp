#pragma once
// Process exit codes, the one definition the agent, its subcommands and the
// CLI share (README.md "Exit codes"). Operators script on these.

namespace cnimig {

enum ExitCode : int {
  kExitDone = 0,         // migration done, or plan printed
  kExitHalted = 1,       // a gate failed or timed out; the cluster is consistent and resumable
  kExitUsage = 2,        // bad flags or configuration, or a missing permission; nothing was written
  kExitUnreachable = 3,  // cannot reach or authenticate to the cluster
  kExitLeaseHeld = 4,    // another agent holds the Lease; nothing was written
  kExitInterrupted = 130,  // SIGINT, stopped at a safe point
  kExitTerminated = 143,   // SIGTERM, stopped at a safe point
};

}  // namespace cnimig
