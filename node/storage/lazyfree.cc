#include "node/storage/lazyfree.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace lattice::node::lazyfree {

namespace {

struct Job {
  std::function<void()> fn;
  uint64_t objects;
};

struct Freer {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> jobs;  // mu
  std::atomic<uint64_t> pending{0};
  std::atomic<uint64_t> freed{0};

  Freer() {
    // Lives as long as the process (exit does not wait for it).
    std::thread([this] { Loop(); }).detach();
  }

  void Loop() {
    while (true) {
      Job j;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return !jobs.empty(); });
        j = std::move(jobs.front());
        jobs.pop_front();
      }
      j.fn();
      j.fn = nullptr;
      pending.fetch_sub(j.objects, std::memory_order_relaxed);
      freed.fetch_add(j.objects, std::memory_order_relaxed);
    }
  }
};

Freer& TheFreer() {
  static Freer* f = new Freer();
  return *f;
}

}  // namespace

void Submit(std::function<void()> job, uint64_t objects) {
  Freer& f = TheFreer();
  f.pending.fetch_add(objects, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> l(f.mu);
    f.jobs.push_back(Job{std::move(job), objects});
  }
  f.cv.notify_one();
}

uint64_t Pending() { return TheFreer().pending.load(std::memory_order_relaxed); }
uint64_t Freed() { return TheFreer().freed.load(std::memory_order_relaxed); }

}  // namespace lattice::node::lazyfree
