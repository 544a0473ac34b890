// Tests for the network-namespace decision behind the banner's paste-able lines
// (stack/link/network_namespace.*): every combination of readable and unreadable facts.
#include <doctest/doctest.h>

#include "stack/link/network_namespace.hpp"

using namespace tcplab::link;

namespace {

using Kind = NetworkNamespace::Kind;

NamespaceEvidence pid1(bool same) {
  NamespaceEvidence e;
  e.same_as_pid1 = same;
  return e;
}

}  // namespace

TEST_CASE("network namespace: a /run/netns name wins, whatever PID 1 says") {
  NamespaceEvidence e = pid1(false);
  e.run_netns_name = "tl-alice";
  auto where = decide_network_namespace(e);
  CHECK(where.kind == Kind::Named);
  CHECK(where.name == "tl-alice");
}

TEST_CASE("network namespace: PID 1's namespace decides default or without a name") {
  CHECK(decide_network_namespace(pid1(true)).kind == Kind::Default);
  CHECK(decide_network_namespace(pid1(false)).kind == Kind::Unnamed);
  // PID 1 is the better witness: an ancestor elsewhere does not outvote it.
  NamespaceEvidence e = pid1(true);
  e.ancestor_elsewhere = true;
  CHECK(decide_network_namespace(e).kind == Kind::Default);
}

TEST_CASE("network namespace: PID 1 out of reach, an ancestor elsewhere means without a name") {
  NamespaceEvidence e;
  e.ancestor_elsewhere = true;
  CHECK(decide_network_namespace(e).kind == Kind::Unnamed);
}

TEST_CASE("network namespace: nothing readable is Unknown, never Default") {
  // Started in the background and re-parented, with PID 1 out of reach: no ancestor is left to
  // compare with, and guessing "default" would send a pasted bare curl to the host's network.
  CHECK(decide_network_namespace(NamespaceEvidence{}).kind == Kind::Unknown);
}
