// A SOCK_SEQPACKET socketpair standing in for the TUN in event-loop tests: one write() on
// test_side is one packet the loop reads on stack_side, and the other way round.
#pragma once
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tcplab::testing {

struct LinkPair {
  int stack_side = -1, test_side = -1;
  LinkPair() {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    stack_side = fds[0];
    test_side = fds[1];
  }
  ~LinkPair() {
    close(stack_side);
    close(test_side);
  }
  LinkPair(const LinkPair&) = delete;
  LinkPair& operator=(const LinkPair&) = delete;
};

}  // namespace tcplab::testing
