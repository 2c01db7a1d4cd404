#include "server/request_budget.h"

namespace streamctl::server {

bool RequestBudget::acquire_or_wait(size_t n, std::function<void()> wake) {
  std::lock_guard<std::mutex> g(mu_);
  if (used_ == 0 || used_ + n <= capacity_) {
    used_ += n;
    return true;
  }
  waiters_.push_back(std::move(wake));
  return false;
}

void RequestBudget::release(size_t n) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard<std::mutex> g(mu_);
    used_ = n > used_ ? 0 : used_ - n;
    wake.swap(waiters_);
  }
  for (auto& w : wake) w();
}

size_t RequestBudget::in_use() const {
  std::lock_guard<std::mutex> g(mu_);
  return used_;
}

size_t RequestBudget::waiting() const {
  std::lock_guard<std::mutex> g(mu_);
  return waiters_.size();
}

}  // namespace streamctl::server
