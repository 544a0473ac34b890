// Reading a command's text output line by line (nft, sysctl): shared by doctor's checks.
#pragma once
#include <string_view>
#include <vector>

namespace tcplab::doctor {

// Lines of a text, without the newline.
inline std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto cut = text.find('\n');
    out.push_back(text.substr(0, cut));
    if (cut == std::string_view::npos) break;
    text.remove_prefix(cut + 1);
  }
  return out;
}

// Without spaces and tabs at either end, nor a CR at the end.
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace tcplab::doctor
