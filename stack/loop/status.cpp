// Formatting of the SIGUSR1 / exit status report.
#include "stack/loop/status.hpp"

#include <algorithm>

namespace tcplab::loop {

std::string format_drops(const DropCounters& drops) {
  std::string out = "drops:";
  bool any = false;
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    auto reason = static_cast<DropReason>(i);
    uint64_t n = drops.get(reason);
    if (n == 0) continue;
    out += any ? ", " : " ";
    out += to_string(reason);
    out += ' ';
    out += std::to_string(n);
    any = true;
  }
  if (!any) out += " none";
  return out;
}

std::string format_connections(const std::vector<tcp::ConnectionInfo>& connections,
                               bool sequence_numbers_known) {
  auto number = [sequence_numbers_known](uint32_t v) {
    return sequence_numbers_known ? std::to_string(v) : std::string("-");
  };
  std::string out = "connections: " + std::to_string(connections.size()) + "\n";
  for (const auto& c : connections) {
    std::string state(tcp::to_string(c.state));
    state.resize(std::max<size_t>(state.size(), 12), ' ');
    // Local first: the stack's own view of the connection. Numbers are relative to our ISS
    // (snd.*) and the peer's IRS (rcv.nxt), as Wireshark shows them.
    out += "  " + state + " " + c.tuple.to_string(false) + "  snd.una " + number(c.snd_una) + " snd.nxt " +
           number(c.snd_nxt) + " rcv.nxt " + number(c.rcv_nxt) + "\n";
  }
  return out;
}

}  // namespace tcplab::loop
