#pragma once
// Kill an agent run at sampled writes and rerun it until a run completes
// (test/README.md "Hardening suites"). cnimig-sim's stop-at-write fault holds the agent's
// k-th write unanswered and unapplied and prints `sim.write-held`; the chain
// SIGKILLs the agent there, replaces the fault at runtime (PUT
// /sim/v1/faults) and reruns. The runs are chained on one cluster: each rerun
// lets `stride` more writes through and is killed at the next, so one run
// of the agent walks through kill points k = 1, 1+stride, 1+2*stride, ...
// Leases and Events are not counted (they are held like the rest once the
// fault triggers): a kill between two writes is the same point whichever
// bookkeeping write it interrupts. Used by crash_resume_e2e_test.cpp (the
// migration) and rollback_e2e_test.cpp (a rollback).
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"
#include <signal.h>
#include <sys/wait.h>

namespace cnimig::test {

// Exited, without reaping (BackgroundProcess::stop reaps it later).
inline bool exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

struct Chain {
  int points = 0;              // kills
  std::uint64_t counted = 0;   // counted writes before the final run completed
  std::set<std::string> held;  // distinct writes the agent was killed at
  double seconds = 0;
};

// Runs the agent with `args` on `cluster`, killed at sampled writes, until a
// run completes with the event `completed`.
inline Chain run_chain(SimCluster& cluster, std::uint64_t stride,
                       const std::vector<std::string>& args, const std::string& completed) {
  Chain chain;
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t allow = 0;  // writes let through in this run before the held one
  for (int run = 0;; ++run) {
    BOOST_TEST_REQUIRE(run < 2000, "the chain does not end");
    cluster.put_faults("stop-at-write=" + std::to_string(allow + 1) +
                       ",stop-at-write-skip=leases|events");
    BackgroundProcess agent(cluster.agent_argv(args));
    std::optional<std::string> held;
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    const auto is_held = [](const std::string& l) {
      return l.find("\"sim.write-held\"") != std::string::npos;
    };
    while (!held && std::chrono::steady_clock::now() < deadline) {
      held = cluster.sim->wait_for_line(is_held, 100ms);
      if (!held && exited(agent.pid())) {
        held = cluster.sim->wait_for_line(is_held, 0ms);
        break;
      }
    }
    if (!held) {
      // The run got through every remaining write: it must have completed.
      const int rc = agent.stop(SIGTERM, 60s);
      BOOST_TEST_REQUIRE(rc == 0, "run " << run << " exit " << rc << ": " << agent.stderr_text());
      bool done = false;
      for (const auto& l : agent.stdout_lines())
        done = done || l.find("\"" + completed + "\"") != std::string::npos;
      BOOST_TEST(done, completed);
      break;
    }
    BOOST_TEST_REQUIRE(agent.stop(SIGKILL) == 128 + SIGKILL);
    const auto event = boost::json::parse(*held).as_object();
    const auto what = std::string(event.at("verb").as_string()) + " " +
                      std::string(event.at("resource").as_string()) + " " +
                      std::string(event.at("namespace").as_string()) + "/" +
                      std::string(event.at("name").as_string()) + " #" +
                      std::string(event.at("body_hash").as_string());
    ++chain.points;
    chain.counted += allow;
    const bool fresh = chain.held.insert(what).second;
    BOOST_TEST_MESSAGE("kill " << chain.points << " after " << chain.counted
                               << " counted writes, at: " << what);
    // A rerun first repeats the writes of a step it re-enters (the agent
    // re-applies a manifest bundle as a whole): a run held at a write seen
    // before made no progress, so the next one gets `stride` more writes.
    // A fresh point keeps the allowance, shrinking it slowly in case the
    // repeated prefix got shorter (a later step re-applies less).
    if (run == 0)
      allow = stride;
    else if (!fresh)
      allow += stride;
    else if (allow > stride)
      --allow;
  }
  chain.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return chain;
}

}  // namespace cnimig::test
