// The status report written to a file (--status-file) as well as to stderr, so that another
// terminal (`tools/lab table`) can show what SIGUSR1 asked for.
#pragma once
#include <optional>
#include <string>

namespace tcplab::cli {

// Replaces `path` whole with `text`: written to a temporary file beside it, then renamed, so a
// reader sees the previous report or the new one, never half of one. False with `error` set.
bool write_status_file(const std::string& path, const std::string& text, std::string& error);

// Why `path` cannot be a status file, if it cannot: replacing it whole would replace a device
// (/dev/null), a symbolic link or a directory with a regular file. A new path or an existing
// regular file is fine. `source` names where the path came from in the message.
std::optional<std::string> status_file_problem(const std::string& path,
                                               const std::string& source = "--status-file");

// The start-up check: status_file_problem, and whether a report can be written there at all
// (a directory this user may not write in), so a run is refused at once, not warned at exit.
std::optional<std::string> status_file_refused_at_start(const std::string& path, const std::string& source);

}  // namespace tcplab::cli
