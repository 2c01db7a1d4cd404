#include "server/request_budget.h"

#include <doctest/doctest.h>

namespace streamctl::server {
namespace {

TEST_CASE("RequestBudgetAdmitsUpToItsCapacityAndWakesWaitersOnRelease") {
  RequestBudget budget(100);
  int woken = 0;
  CHECK(budget.acquire_or_wait(60, [&] { ++woken; }));
  CHECK(budget.acquire_or_wait(40, [&] { ++woken; }));
  CHECK(budget.in_use() == 100);
  CHECK_FALSE(budget.acquire_or_wait(1, [&] { ++woken; }));
  CHECK_FALSE(budget.acquire_or_wait(50, [&] { ++woken; }));
  CHECK(budget.waiting() == 2);
  budget.release(60);
  CHECK(woken == 2);  // every waiter tries again
  CHECK(budget.waiting() == 0);
  CHECK(budget.in_use() == 40);
  CHECK(budget.acquire_or_wait(50, [&] { ++woken; }));
  budget.release(40);
  budget.release(50);
  CHECK(budget.in_use() == 0);
}

TEST_CASE("AFrameLargerThanTheWholeBudgetIsAdmittedWhenNothingElseIs") {
  RequestBudget budget(10);
  int woken = 0;
  CHECK(budget.acquire_or_wait(1000, [&] { ++woken; }));
  CHECK_FALSE(budget.acquire_or_wait(1, [&] { ++woken; }));
  budget.release(1000);
  CHECK(woken == 1);
  CHECK(budget.acquire_or_wait(1, [&] { ++woken; }));
}

}  // namespace
}  // namespace streamctl::server
