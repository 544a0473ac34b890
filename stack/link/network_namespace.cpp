// The network-namespace decision (see network_namespace.hpp).
#include "stack/link/network_namespace.hpp"

namespace tcplab::link {

NetworkNamespace decide_network_namespace(const NamespaceEvidence& evidence) {
  NetworkNamespace result;
  if (!evidence.run_netns_name.empty()) {
    result.kind = NetworkNamespace::Kind::Named;
    result.name = evidence.run_netns_name;
  } else if (evidence.same_as_pid1) {
    result.kind = *evidence.same_as_pid1 ? NetworkNamespace::Kind::Default : NetworkNamespace::Kind::Unnamed;
  } else if (evidence.ancestor_elsewhere) {
    result.kind = NetworkNamespace::Kind::Unnamed;
  } else {
    // "Default" here would be the unsafe guess: the pasted lines would go to the host's network.
    result.kind = NetworkNamespace::Kind::Unknown;
  }
  return result;
}

}  // namespace tcplab::link
