#include "tools/tcplab/same_file.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

namespace tcplab::cli {

bool same_regular_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  const bool a_exists = ::stat(a.c_str(), &sa) == 0, b_exists = ::stat(b.c_str(), &sb) == 0;
  if (a_exists && b_exists) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && S_ISREG(sa.st_mode);
  if (a_exists != b_exists) return false;
  std::error_code ea, eb;
  auto pa = std::filesystem::absolute(a, ea).lexically_normal();
  auto pb = std::filesystem::absolute(b, eb).lexically_normal();
  return !ea && !eb && pa == pb;
}

}  // namespace tcplab::cli
