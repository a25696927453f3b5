// Where blocking work runs. gRPC reactors must not block their callback threads, so
// handlers post store and model work to an Executor and finish the RPC from there.
#ifndef IONLOOP_COMMON_EXECUTOR_H_
#define IONLOOP_COMMON_EXECUTOR_H_

#include <cstddef>
#include <functional>
#include <memory>

namespace ionloop {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> task) = 0;
};

// A fixed pool of threads (Boost.Asio's thread_pool). The destructor waits for
// every posted task to finish.
class ThreadPoolExecutor final : public Executor {
 public:
  explicit ThreadPoolExecutor(size_t threads);
  ~ThreadPoolExecutor() override;
  void Post(std::function<void()> task) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs each task at once on the caller's thread (tests).
class InlineExecutor final : public Executor {
 public:
  void Post(std::function<void()> task) override { task(); }
};

}  // namespace ionloop

#endif  // IONLOOP_COMMON_EXECUTOR_H_
