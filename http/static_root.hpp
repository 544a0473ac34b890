// Mapping a request path onto a file under --root without ever leaving it: percent-decoding,
// ".." refused, symlinks resolved with realpath() and checked against the root's own path.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace tcplab::http {

// RFC 3986 §2.1 percent-decoding. nullopt for a malformed escape or an encoded NUL.
std::optional<std::string> percent_decode(std::string_view in);

// The request path as the name it stands for: percent-decoded, with empty and "." segments
// dropped, ending in "/" when it names a directory ("/a/" or "/a/."); "/./a.txt", "//a.txt" and
// "/%61.txt" are all "/a.txt". nullopt when it is refused with 400 (a ".." segment, a bad
// escape, no leading "/"). The file cache's key, and the name the Content-Type comes from.
std::optional<std::string> normalize_path(std::string_view url_path);
// True when `url_path` is already what normalize_path() would make of it (no percent escape,
// no empty, "." or ".." segment): most requests, which then need no decoded copy.
bool is_normal_path(std::string_view url_path);

// Whether the path as sent ends in a directory segment ("/", "/." or "/%2e"). A browser
// resolves relative links against the path as sent (RFC 3986 §5.2.3), so "/sub%2f" does not
// count: it is redirected to "/sub%2f/" as "/sub" is to "/sub/".
bool names_directory_as_sent(std::string_view url_path);

// Content-Type by file extension; application/octet-stream when unknown.
std::string_view mime_type_for(std::string_view path);

// The status for a path that realpath() or stat() could not resolve, by their errno: a
// directory on the way the server may not enter (EACCES, EPERM) is 403 Forbidden (RFC 9110
// §15.5.4), as a file it may not open is; anything else (ENOENT, ENOTDIR, ELOOP, ...) 404.
int status_for_resolve_error(int err);

struct Resolved {
  // 200: `path` is a regular file inside the root; 301: the URL names a directory without its
  // trailing slash, and `path` is the URL path to send the client to; else 400, 403 or 404.
  int status = 404;
  std::string path;  // the real (symlink-free) path of the file, or the redirect's URL path
};

class StaticRoot {
 public:
  // `root` must exist; valid() is false otherwise.
  explicit StaticRoot(const std::string& root);
  bool valid() const { return !root_.empty(); }
  const std::string& real_root() const { return root_; }
  // `url_path`: the request target's path (before '?'), still percent-encoded.
  Resolved resolve(std::string_view url_path) const;

 private:
  bool inside(const std::string& real) const;
  std::string root_;  // realpath of the root, no trailing slash (except "/")
};

}  // namespace tcplab::http
