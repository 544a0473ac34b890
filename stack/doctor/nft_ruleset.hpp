// Reads `nft list ruleset` and walks each IPv4 base chain in rule order with the lab's traffic,
// as the kernel would (nft(8), "CHAINS" and "VERDICT STATEMENT"): which rule or policy drops it,
// and which rules only might. Used by doctor's firewall check.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/wire/ipv4.hpp"

namespace tcplab::doctor {

// The traffic tcplab's lab sends through the TUN: TCP between the host side's address and the
// stack's, to and from the ports the stack serves. The defaults are serve's.
struct LabTraffic {
  std::string tun = "tcplab0";
  std::optional<wire::Ipv4Address> host = wire::Ipv4Address{0xC0000201};  // 192.0.2.1; nothing: unknown
  wire::Ipv4Address stack{0xC0000202};                                    // 192.0.2.2
  std::vector<uint16_t> served_ports = {80};                              // serve's --http-port
};

// Which way a base chain sees the lab's packets: from the stack (prerouting and input hooks,
// arriving on the TUN) or to it (output and postrouting, leaving through the TUN).
enum class Direction { FromStack, ToStack };

// A rule or policy that drops the lab's traffic in a base chain.
struct NftDrop {
  std::string what;   // "nft rule `iifname \"tcplab0\" drop`"
  std::string table;  // "inet filter"
  std::string chain;  // "input"
  Direction direction = Direction::FromStack;
};

struct NftVerdicts {
  std::vector<NftDrop> drops;        // certain: every lab packet of that direction reaches it
  std::vector<NftDrop> maybe_drops;  // rules whose match may hit lab packets, which doctor cannot tell
};

NftVerdicts walk_nft_ruleset(const std::string& ruleset, const LabTraffic& lab);

}  // namespace tcplab::doctor
