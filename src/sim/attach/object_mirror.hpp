#pragma once
// The attached simulator's view of the real API server: each mirrored
// collection is listed and watched (kube::WatchStream) into the local
// ObjectStore, which the unchanged kubelet model, network model and
// violation tracker read. The local kubelet owns the status of the pods it
// runs, so a remote event never takes a pod's status back to an older one
// (the write-back of a newer one may not have landed yet), and a pod the
// kubelet has removed stays removed until the real server's deletion arrives.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "cnimig/kube/client.hpp"
#include "cnimig/kube/watch_stream.hpp"

#include "../object_store.hpp"

namespace cnimig::sim {

class ObjectMirror {
 public:
  ObjectMirror(kube::Client& client, ObjectStore& store);
  ~ObjectMirror();
  ObjectMirror(const ObjectMirror&) = delete;
  ObjectMirror& operator=(const ObjectMirror&) = delete;

  // Mirrors `collection` (every namespace) as `type` until stop() or a fatal
  // error (returned: a 403, say). Transient failures are retried inside.
  boost::asio::awaitable<Result<void>> run(kube::ResourcePath collection, const ResourceType& type);
  void stop();
  // Lists applied (first lists and re-lists).
  std::size_t synced() const { return synced_; }
  // Waits until `lists` lists have been applied (true) or `timeout` passes.
  boost::asio::awaitable<bool> wait_synced(std::size_t lists,
                                           std::chrono::steady_clock::duration timeout);
  // True while the mirror itself writes the store: the write-back skips
  // those changes (they came from the real server).
  bool applying() const { return applying_; }
  // The kubelet removed this pod locally: remote events about it are stale
  // until its deletion arrives.
  void removed_locally(std::string uid) { removed_.insert(std::move(uid)); }

  // The object to store for `remote`, given what the store holds (exposed for tests).
  static boost::json::object merge_local(const ResourceType& type, boost::json::object remote,
                                         const boost::json::object* local);

 private:
  void apply(const ResourceType& type, kube::WatchEvent& event);
  void put(const ResourceType& type, boost::json::object remote);
  void erase(const ResourceType& type, const boost::json::object& last);

  kube::Client& client_;
  ObjectStore& store_;
  std::vector<kube::WatchStream*> streams_;
  std::map<const ResourceType*, std::set<std::string>> listed_;  // keys seen since relisting
  std::set<std::string> removed_;                                // pod uids
  std::size_t synced_ = 0;
  boost::asio::steady_timer synced_signal_;  // cancelled on every applied list
  bool applying_ = false;
  bool stopped_ = false;
};

}  // namespace cnimig::sim
