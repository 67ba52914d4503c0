#pragma once
// Sends what the local kubelet model changes to the real API server, as a
// kubelet would: a pod's status (strategic merge patch of pods/status), the
// annotations it adds when the sandbox is created (the interfaces the
// network model gave the pod), and the end of a graceful deletion (a
// grace-0 delete with the pod's uid as precondition once its containers are
// "stopped"). Changes the mirror applies came from the server and are not
// sent back. Writes go out one at a time in the order they were made, so a
// pod's status never overtakes its annotations.

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>

#include "cnimig/kube/client.hpp"

#include "../object_store.hpp"
#include "object_mirror.hpp"

namespace cnimig::sim {

class KubeletWriteBack {
 public:
  KubeletWriteBack(kube::Client& client, ObjectStore& store, ObjectMirror& mirror);
  ~KubeletWriteBack();
  KubeletWriteBack(const KubeletWriteBack&) = delete;
  KubeletWriteBack& operator=(const KubeletWriteBack&) = delete;

  // Sends the queued writes until stop().
  boost::asio::awaitable<void> run();
  void stop();
  std::size_t sent() const { return sent_; }
  std::size_t failed() const { return failed_; }

 private:
  enum class Kind { annotations, status, remove };
  struct Write {
    Kind kind;
    std::string ns, name, uid;
    std::string body;  // the patch
  };
  void observe(const Change& change);
  void enqueue(Write write);
  boost::asio::awaitable<void> send(const Write& write);

  kube::Client& client_;
  ObjectStore& store_;
  ObjectMirror& mirror_;
  std::size_t observer_ = 0;
  std::deque<Write> queue_;
  boost::asio::steady_timer wake_;
  std::size_t sent_ = 0;
  std::size_t failed_ = 0;
  bool stopped_ = false;
};

}  // namespace cnimig::sim
