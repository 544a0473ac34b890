// Whether two file names on a command line would be written as one file: two writers of one
// file each truncate it and write from offset 0, so one output lands over the other; an output
// over an input destroys what the command reads.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace tcplab::cli {

// True when `a` and `b` would be the same regular file. An existing file is known by device
// and inode (a hard link, a symlink, "./a" for "a"); one not created yet by the path it would
// be created at (symlinks to it followed, existing directories resolved). A device such as
// /dev/null may be named any number of times.
bool same_regular_file(const std::string& a, const std::string& b);

// Whether opening `output` for writing would create it directly inside `directory` (a symlink
// followed, as same_regular_file does); false if `directory` is not one.
bool would_be_created_in(const std::string& output, const std::string& directory);

// A usage error when the file that `flag` writes (`output`; "" or "-" for none or stdout) is
// one of the files the command reads (`inputs`, "-" being stdin).
std::optional<std::string> output_over_input(const std::string& flag, const std::string& output,
                                             const std::vector<std::string>& inputs);

}  // namespace tcplab::cli
