// Opening an output file (a capture, a trace, a body) that may be a FIFO with no reader yet.
#pragma once
#include <functional>
#include <string>

namespace tcplab::link {

// What an existing file's contents become at the open.
enum class ExistingContents { Truncated, Kept };

// open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666), blocking as before
// (without O_TRUNC for ExistingContents::Kept).
// A FIFO that no process has open for reading would block that open() until one does, with
// nothing on the screen; such a FIFO first calls `waiting_for_reader` (a line that says
// what tcplab waits for), then waits as `cat > FIFO` would. Returns the descriptor, in
// blocking mode, or -1 with errno set.
int open_output(const std::string& path, const std::function<void()>& waiting_for_reader,
                ExistingContents existing = ExistingContents::Truncated);

}  // namespace tcplab::link
