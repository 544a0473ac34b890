// The status report printed on SIGUSR1 and at exit: drop counters by name and the live
// connection table. Pure formatting, so tests check it without signals.
#pragma once
#include <string>
#include <vector>

#include "stack/drop_reason.hpp"
#include "stack/tcp/socket.hpp"

namespace tcplab::loop {

// "drops: ipv4-bad-checksum 2, fragment 1" (non-zero counters only), or "drops: none".
std::string format_drops(const DropCounters& drops);

// A header line then one line per connection:
// "  ESTABLISHED  192.0.2.2:7 > 192.0.2.1:40000  snd.una 1 snd.nxt 1 rcv.nxt 6".
// Without `sequence_numbers_known` (the kernel's TCP, which does not show them) each number is
// "-", as /tcp shows null: a 0 there would read as measured.
std::string format_connections(const std::vector<tcp::ConnectionInfo>& connections,
                               bool sequence_numbers_known = true);

}  // namespace tcplab::loop
