// Whether two file names on a command line would be written as one file: two writers of one
// file each truncate it and write from offset 0, so one output lands over the other.
#pragma once
#include <string>

namespace tcplab::cli {

// True when `a` and `b` would be the same regular file. An existing file is known by device
// and inode (a hard link, a symlink, "./a" for "a"); one not created yet by its absolute,
// normalised path. A device such as /dev/null may be named any number of times.
bool same_regular_file(const std::string& a, const std::string& b);

}  // namespace tcplab::cli
