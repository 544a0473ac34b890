// The errno names a script may write after "-1" ("read(4, ..., 10) = -1 EAGAIN"): Linux's,
// so a script written for packetdrill reads here, and a misspelt name is a script error at
// its line instead of a puzzling mismatch when the call runs.
#pragma once
#include <string_view>

namespace tcplab::scenario {

// True for Linux's errno names (include/uapi/asm-generic/errno-base.h and errno.h) and glibc's
// ENOTSUP; tcplab's calls return only a few of them (docs/scenarios.md, "Calls").
bool is_errno_name(std::string_view name);

}  // namespace tcplab::scenario
