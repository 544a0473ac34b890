// A word as a POSIX shell reads it back: for command lines tcplab prints to be pasted, such
// as a failing script's "rerun with tcplab script --fault 'drop in syn' ...".
#pragma once

#include <string>
#include <string_view>

namespace tcplab::text {

// `word` unchanged when it holds only characters no shell treats specially (letters, digits
// and + , - . / : = @ _ %); otherwise in single quotes, each ' written as '\'' (POSIX.1-2017
// XCU §2.2.2: nothing inside single quotes is special). An empty word becomes ''.
std::string shell_quote(std::string_view word);

}  // namespace tcplab::text
