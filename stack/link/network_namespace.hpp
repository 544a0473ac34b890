// Which network namespace a process is in, as far as the user's other terminals are concerned:
// the default one (a bare `curl` there reaches the stack), one with a name in /run/netns, one
// without a name, or one tcplab cannot place. The facts come from /proc and /run/netns
// (gathered by tools/tcplab/banner.cpp); the decision is kept pure so that every combination of
// readable and unreadable facts can be tested.
#pragma once
#include <optional>
#include <string>

namespace tcplab::link {

struct NetworkNamespace {
  // Unknown: nothing readable said whether this is the default namespace. The banner then treats
  // it as a namespace of its own: entering it from the default namespace works too, while a bare
  // `curl` from a terminal elsewhere would go to the machine's own network.
  enum class Kind { Default, Named, Unnamed, Unknown };
  Kind kind = Kind::Default;
  std::string name;  // with Named: its entry in /run/netns (as `ip netns` names it)
};

// What could be read. Each fact is independent; an unreadable one is left unset.
struct NamespaceEvidence {
  std::string run_netns_name;  // the /run/netns entry that is this namespace; empty: none is
  // Whether PID 1 is in this namespace: from /proc/1/ns/net, or, when that is refused (reading
  // it needs ptrace rights over PID 1), from /proc/1/net, which needs none.
  std::optional<bool> same_as_pid1;
  // An ancestor process is in another namespace (`unshare --net` leaves its parent behind).
  // Its absence proves nothing: a process started in the background and re-parented to PID 1
  // has lost the ancestor that would show it.
  bool ancestor_elsewhere = false;
};

NetworkNamespace decide_network_namespace(const NamespaceEvidence& evidence);

}  // namespace tcplab::link
