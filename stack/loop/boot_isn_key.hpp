// The RFC 6528 secret key, kept for as long as the machine is up, as Linux keeps its own:
// every tcplab run on this boot then gives the same 4-tuple the same ISN and TSval offset,
// which only move on with the clock, so a peer's TIME-WAIT takes our new SYN (RFC 6191).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace tcplab::loop {

// On tmpfs, so the key dies with the boot; root-only (0700 directory, 0600 file).
inline constexpr const char* kBootIsnKeyDirectory = "/run/tcplab";
inline constexpr const char* kBootIsnKeyFile = "isn-key";

struct BootIsnKey {
  std::array<uint8_t, 16> bytes{};
  // False: the file could not be used (not root, say) and `bytes` is fresh for this process only;
  // `why_fresh` says why.
  bool shared = false;
  std::string why_fresh;
};

// Reads `directory`/isn-key, or creates it from getrandom() if it does not exist yet. The file is
// written under a temporary name and linked into place, so a run starting at the same moment
// sees either no key or the whole key. Nothing (and `error` set) only if getrandom() fails.
std::optional<BootIsnKey> boot_isn_key(const std::string& directory, std::string& error);

}  // namespace tcplab::loop
