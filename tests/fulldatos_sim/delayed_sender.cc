#include "delayed_sender.h"

namespace fdsim {

DelayedSender::DelayedSender() : thread_([this] { run(); }) {}

DelayedSender::~DelayedSender() { stop(); }

void DelayedSender::schedule(SteadyClock::time_point deadline, std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    queue_.push(Entry{deadline, next_sequence_++, std::move(task)});
  }
  wake_.notify_one();
}

void DelayedSender::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();

  // Destroy the discarded tasks now, while whatever they captured (such as
  // Pistache response writers) is still valid.
  std::lock_guard lock(mutex_);
  while (!queue_.empty()) queue_.pop();
}

void DelayedSender::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto deadline = queue_.top().deadline;
    if (SteadyClock::now() < deadline) {
      wake_.wait_until(lock, deadline);
      continue;
    }

    // Take every due task and run them without the lock, so that server
    // threads can keep scheduling meanwhile.
    std::vector<std::function<void()>> due;
    const auto now = SteadyClock::now();
    while (!queue_.empty() && queue_.top().deadline <= now) {
      due.push_back(std::move(const_cast<Entry&>(queue_.top()).task));
      queue_.pop();
    }
    lock.unlock();
    for (auto& task : due) task();
    lock.lock();
  }
}

void ConnectionTracker::addPending(std::size_t peer_id) {
  std::lock_guard lock(mutex_);
  ++pending_[peer_id];
}

void ConnectionTracker::markDisconnected(std::size_t peer_id) {
  std::lock_guard lock(mutex_);
  if (pending_.contains(peer_id)) disconnected_.insert(peer_id);
}

bool ConnectionTracker::finishPending(std::size_t peer_id, const std::function<void()>& send) {
  std::lock_guard lock(mutex_);
  const bool connected = !disconnected_.contains(peer_id);
  if (connected) send();
  auto found = pending_.find(peer_id);
  if (found != pending_.end() && --found->second <= 0) {
    pending_.erase(found);
    disconnected_.erase(peer_id);
  }
  return connected;
}

}  // namespace fdsim
