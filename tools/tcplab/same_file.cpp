#include "tools/tcplab/same_file.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

namespace tcplab::cli {

namespace {

// The file that opening `name` for writing would create: a symlink whose target does not exist
// yet is followed (open(O_CREAT) creates its target), and the existing directories on the way
// are resolved, so two names for one new file come out equal.
std::filesystem::path file_to_be_created(const std::string& name, std::error_code& ec) {
  namespace fs = std::filesystem;
  fs::path p = fs::absolute(name, ec);
  // 40 links at most, as Linux's path walk allows before ELOOP. A name that does not exist is
  // no link (libstdc++ reports it through the error code, which is not an error here).
  std::error_code absent;
  for (int links = 0; !ec && links < 40 && fs::is_symlink(fs::symlink_status(p, absent)); ++links) {
    fs::path target = fs::read_symlink(p, ec);
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  if (ec) return {};
  return fs::weakly_canonical(p, ec);
}

}  // namespace

bool same_regular_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  const bool a_exists = ::stat(a.c_str(), &sa) == 0, b_exists = ::stat(b.c_str(), &sb) == 0;
  if (a_exists && b_exists) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
  if (a_exists != b_exists) return false;
  std::error_code ea, eb;
  auto pa = file_to_be_created(a, ea);
  auto pb = file_to_be_created(b, eb);
  return !ea && !eb && pa == pb;
}

bool would_be_created_in(const std::string& output, const std::string& directory) {
  std::error_code eo, ed;
  if (!std::filesystem::is_directory(directory, ed)) return false;
  const auto folder = file_to_be_created(output, eo).parent_path();
  return !eo && folder == std::filesystem::weakly_canonical(directory, ed) && !ed;
}

std::optional<std::string> output_over_input(const std::string& flag, const std::string& output,
                                             const std::vector<std::string>& inputs) {
  if (output.empty() || output == "-") return std::nullopt;
  for (const std::string& input : inputs) {
    if (input == "-" || !same_regular_file(output, input)) continue;
    return flag + " " + output + " is the input file " + input +
           ": writing it would destroy what is being read; give the output its own name";
  }
  return std::nullopt;
}

}  // namespace tcplab::cli
