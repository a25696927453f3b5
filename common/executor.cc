#include "common/executor.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace ionloop {

struct ThreadPoolExecutor::Impl {
  explicit Impl(size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

ThreadPoolExecutor::ThreadPoolExecutor(size_t threads)
    : impl_(std::make_unique<Impl>(threads)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() { impl_->pool.join(); }

void ThreadPoolExecutor::Post(std::function<void()> task) {
  boost::asio::post(impl_->pool, std::move(task));
}

}  // namespace ionloop
