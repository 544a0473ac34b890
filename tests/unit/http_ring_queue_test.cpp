// RingQueue (http/ring_queue.hpp): first in, first out across the array's end, through a
// growth while wrapped, and erase_if keeping the order of what it keeps.
#include <doctest/doctest.h>

#include <vector>

#include "http/ring_queue.hpp"

using tcplab::http::RingQueue;

namespace {
std::vector<int> drain(RingQueue<int>& q) {
  std::vector<int> out;
  while (!q.empty()) {
    out.push_back(q.front());
    q.pop_front();
  }
  return out;
}
}  // namespace

TEST_CASE("RingQueue: first in, first out, also after wrapping and growing while wrapped") {
  RingQueue<int> q;
  // 64 slots at first: fill 60, take 50, so the next pushes wrap; then push past 64 held.
  for (int i = 0; i < 60; ++i) q.push_back(i);
  for (int i = 0; i < 50; ++i) {
    CHECK(q.front() == i);
    q.pop_front();
  }
  for (int i = 60; i < 200; ++i) q.push_back(i);
  CHECK(q.size() == 150);
  std::vector<int> expected;
  for (int i = 50; i < 200; ++i) expected.push_back(i);
  CHECK(drain(q) == expected);
}

TEST_CASE("RingQueue: erase_if drops what it is told to and keeps the rest in order") {
  RingQueue<int> q;
  for (int i = 0; i < 40; ++i) q.push_back(i);
  for (int i = 0; i < 30; ++i) q.pop_front();
  for (int i = 40; i < 80; ++i) q.push_back(i);  // 30..79, wrapped in 64 slots
  q.erase_if([](int v) { return v % 3 == 0; });
  std::vector<int> expected;
  for (int i = 30; i < 80; ++i)
    if (i % 3 != 0) expected.push_back(i);
  CHECK(q.size() == expected.size());
  q.push_back(1000);  // still a queue afterwards
  expected.push_back(1000);
  CHECK(drain(q) == expected);
}

TEST_CASE("RingQueue: entries that own memory survive erase_if and leave with pop_front") {
  // An entry kept in place must not be moved onto itself (a std::vector moved onto itself is
  // left empty).
  RingQueue<std::vector<int>> q;
  for (int i = 0; i < 5; ++i) q.push_back(std::vector<int>(3, i));
  q.erase_if([](const std::vector<int>& v) { return v[0] == 3; });
  REQUIRE(q.size() == 4);
  for (int expected : {0, 1, 2, 4}) {
    CHECK(q.front() == std::vector<int>(3, expected));
    q.pop_front();
  }
  CHECK(q.empty());
}
