// Static file resolution under --root: no way out of DIR, checked on the resolved path.
#include "http/static_root.hpp"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <memory>
#include <utility>

namespace tcplab::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> real_path(const std::string& path) {
  std::unique_ptr<char, decltype(&::free)> resolved(::realpath(path.c_str(), nullptr), &::free);
  if (!resolved) return std::nullopt;
  return std::string(resolved.get());
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;  // '%' needs two hex digits after it
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;  // an encoded NUL would cut the path short in C APIs
    out += c;
    i += 2;
  }
  return out;
}

std::string_view mime_type_for(std::string_view path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".pdf", "application/pdf"},
      {".wasm", "application/wasm"},
      {".woff2", "font/woff2"},
      {".xml", "application/xml"},
      {".pcap", "application/vnd.tcpdump.pcap"},
  }};
  auto slash = path.rfind('/');
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  auto ext = name.substr(dot);
  for (const auto& [e, type] : kTypes) {
    if (e.size() != ext.size()) continue;
    bool same = true;
    for (size_t i = 0; i < e.size(); ++i) {
      char c = ext[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != e[i]) same = false;
    }
    if (same) return type;
  }
  return "application/octet-stream";
}

int status_for_resolve_error(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return 403;
    default:
      return 404;
  }
}

StaticRoot::StaticRoot(const std::string& root) {
  auto real = real_path(root);
  struct stat st {};
  if (real && ::stat(real->c_str(), &st) == 0 && S_ISDIR(st.st_mode)) root_ = *real;
}

bool StaticRoot::inside(const std::string& real) const {
  if (root_ == "/") return true;
  return real == root_ || (real.size() > root_.size() && real.compare(0, root_.size(), root_) == 0 &&
                           real[root_.size()] == '/');
}

std::optional<std::string> normalize_path(std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/') return std::nullopt;
  auto decoded = percent_decode(url_path);
  if (!decoded) return std::nullopt;
  // ".." is refused outright (even where it would stay inside), so the decision never depends
  // on what is on disk. "%2e%2e" decodes to ".." first and is refused the same way.
  std::string out;
  std::string_view rest = *decoded;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    auto seg = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return std::nullopt;
    out += '/';
    out += seg;
  }
  if (out.empty() || decoded->ends_with('/') || decoded->ends_with("/.")) out += '/';
  return out;
}

bool is_normal_path(std::string_view url_path) {
  if (url_path.empty() || url_path.front() != '/') return false;
  if (url_path.find('%') != std::string_view::npos) return false;
  for (size_t i = 1; i <= url_path.size();) {
    const size_t end = std::min(url_path.find('/', i), url_path.size());
    const std::string_view segment = url_path.substr(i, end - i);
    if (segment == "." || segment == "..") return false;
    if (segment.empty() && end != url_path.size()) return false;  // "//": only a final '/' is empty
    i = end + 1;
  }
  return true;
}

bool names_directory_as_sent(std::string_view url_path) {
  if (url_path.ends_with('/') || url_path.ends_with("/.")) return true;
  if (url_path.size() < 4) return false;
  auto tail = url_path.substr(url_path.size() - 4);
  return tail[0] == '/' && tail[1] == '%' && tail[2] == '2' && (tail[3] == 'e' || tail[3] == 'E');
}

Resolved StaticRoot::resolve(std::string_view url_path) const {
  if (!valid()) return {400, {}};
  auto normal = normalize_path(url_path);
  if (!normal) return {400, {}};
  std::string joined = root_ + (root_ == "/" ? normal->substr(1) : *normal);
  // realpath() resolves every symlink; the result must still be inside the root. Where it
  // fails, errno says why: a directory the server may not enter is 403, not 404.
  auto real = real_path(joined);
  if (!real) return {status_for_resolve_error(errno), {}};
  if (!inside(*real)) return {404, {}};
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0) return {status_for_resolve_error(errno), {}};
  // What the URL says about itself: a path ending in "/" (or "/.") names a directory.
  const bool names_directory = normal->ends_with('/');
  if (S_ISDIR(st.st_mode)) {
    auto index = real_path(*real + "/index.html");
    if (!index) return {status_for_resolve_error(errno), {}};
    if (!inside(*index)) return {404, {}};
    if (::stat(index->c_str(), &st) != 0) return {status_for_resolve_error(errno), {}};
    if (!S_ISREG(st.st_mode)) return {404, {}};
    // "/sub" served as "/sub/index.html" would make the page's relative links resolve from
    // "/" (RFC 3986 §5.2.3): send the client to "/sub/" instead, as web servers do. The same
    // for "/sub%2f", whose last segment as sent is still "sub%2f".
    if (!names_directory_as_sent(url_path)) {
      // From one leading slash: "//docs/" would name the host "docs" (RFC 3986 §4.2).
      std::string_view rest = url_path;
      while (rest.starts_with('/')) rest.remove_prefix(1);
      return {301, "/" + std::string(rest) + "/"};
    }
    return {200, *index};
  }
  if (!S_ISREG(st.st_mode) || names_directory) return {404, {}};
  return {200, *real};
}

}  // namespace tcplab::http
