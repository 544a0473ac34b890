// Reading a whole input file named on the command line (a capture, a trace), with the reason
// in one line when it cannot be read: missing, a directory, unreadable. Never throws.
#pragma once
#include <string>

namespace tcplab::cli {

// Fills `out` with the file's bytes and returns true, or sets `error` to
// "cannot read PATH: REASON" and returns false. PATH "-" reads standard input to its end.
bool read_input_file(const std::string& path, std::string& out, std::string& error);

// How a message names the input: "standard input" for "-", else the path.
std::string input_name(const std::string& path);

}  // namespace tcplab::cli
