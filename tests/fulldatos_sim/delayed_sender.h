// Runs deferred work at a deadline on one timer thread, so that injected
// latency never blocks a Pistache server thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace fdsim {

class DelayedSender {
 public:
  using SteadyClock = std::chrono::steady_clock;

  DelayedSender();
  // Stops the thread; tasks that are not due yet are discarded.
  ~DelayedSender();

  DelayedSender(const DelayedSender&) = delete;
  DelayedSender& operator=(const DelayedSender&) = delete;

  // Runs `task` on the timer thread at `deadline`. Tasks with equal
  // deadlines run in scheduling order. A task must not throw.
  void schedule(SteadyClock::time_point deadline, std::function<void()> task);

  void stop();

 private:
  struct Entry {
    SteadyClock::time_point deadline;
    std::uint64_t sequence;
    std::function<void()> task;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.sequence > b.sequence;
    }
  };

  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<Entry, std::vector<Entry>, Later> queue_;
  std::uint64_t next_sequence_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

// Tracks connections that have delayed responses outstanding, so that a
// response is not written after its client disconnected. Pistache writes by
// file descriptor, and the kernel hands a closed descriptor number to the
// next accepted connection, so a late write could otherwise reach a
// different client. Peers are identified by Pistache's unique peer id.
class ConnectionTracker {
 public:
  void addPending(std::size_t peer_id);
  void markDisconnected(std::size_t peer_id);

  // Calls `send` unless the peer disconnected, holding the lock so that a
  // disconnection cannot be recorded in between, and releases one pending
  // entry. Returns false when the peer was gone.
  bool finishPending(std::size_t peer_id, const std::function<void()>& send);

 private:
  std::mutex mutex_;
  std::unordered_map<std::size_t, int> pending_;
  std::unordered_set<std::size_t> disconnected_;
};

}  // namespace fdsim
