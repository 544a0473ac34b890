// Text from a file or the network placed in a message for a terminal: a byte the terminal
// would act on (an escape sequence, a bell), lose (NUL ends a C string) or misread stays
// visible as \xNN instead.
#pragma once

#include <string>
#include <string_view>

namespace tcplab::text {

// Printable ASCII, tab and well-formed UTF-8 characters ("§" in an RFC citation) unchanged;
// every other byte as \xNN with two lowercase hex digits: NUL and the other control
// characters, DEL, the C1 controls U+0080..U+009F and bytes that are not well-formed UTF-8
// (RFC 3629 §4). Backslashes are left as they are, so escaped text comes out the same.
std::string escape_unprintable(std::string_view text);

}  // namespace tcplab::text
