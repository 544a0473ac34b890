// What the server serves: the built-in demo site (the article's page whose stylesheet,
// script and images follow the HTML over the same connection), /bytes/N, POST /echo,
// /stats and /tcp, or a directory given with --root. Routing and method rules live here.
#pragma once
#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>

#include "http/conditional.hpp"
#include "http/file_cache.hpp"
#include "http/handler.hpp"
#include "http/open_file.hpp"
#include "http/static_root.hpp"

namespace tcplab::http {

// Live pages the server fills in (it owns the counters); unset hooks answer 404.
struct SiteHooks {
  std::function<std::string()> stats_json, stats_html, tcp_json, tcp_html;
  // A line for the operator (out of file descriptors); unset: written to stderr.
  std::function<void(const std::string&)> warn;
  // Called for every 503 sent because open() hit EMFILE or ENFILE (warn is rate-limited, this
  // is not): the server counts them for /stats.
  std::function<void()> out_of_descriptors;
};

// At most one warning line per this interval, however many requests fail.
inline constexpr std::chrono::seconds kWarnEvery{10};

inline constexpr int kDemoImages = 6;
// /bytes/N above this is refused with 400 (1 TiB: any test fits, a typo does not run forever).
inline constexpr uint64_t kMaxPatternBytes = uint64_t{1} << 40;

class Site final : public Responder {
 public:
  // root: --root DIR, or nullopt for the built-in demo site. clock: for the file cache's
  // revalidation interval (tests step it).
  Site(std::optional<std::string> root, SiteHooks hooks,
       FileCache::Clock clock = &std::chrono::steady_clock::now);
  bool root_ok() const { return !root_ || root_->valid(); }
  Response respond(const Request& request) override;
  // Only POST /echo reads a request's content (unless a precondition fails); every other
  // answer is the same without it.
  bool takes_body(const Request& head) override;
  const FileCache& file_cache() const { return file_cache_; }

 private:
  // `path` as sent (the file lookup's redirects need it), `route` its normal form (the
  // built-in pages are matched on it); `now`: the wall clock, read once per request.
  Response respond_get(const Request& request, std::string_view path, std::string_view route,
                       std::string_view query, std::time_t now);
  Response file_response(const Request& request, std::string_view path, std::string_view route,
                         std::string_view query, std::time_t now);
  Response open_failed(OpenFailure failure);
  std::optional<StaticRoot> root_;
  FileCache file_cache_;
  uint64_t out_of_descriptors_ = 0;  // 503s sent because open() hit EMFILE or ENFILE
  std::optional<std::chrono::steady_clock::time_point> warned_;
  SiteHooks hooks_;
};

// RFC 9112 §3.2.2: an absolute-form target as the origin-form it stands for (we serve one host,
// so the authority is dropped): "http://h/a?x=1" is "/a?x=1", "http://h?x=1" is "/?x=1" (an
// empty path is "/", RFC 9112 §3.2.1). Any other target is returned as it is. The result views
// `target` or `storage`.
std::string_view origin_form(std::string_view target, std::string& storage);

// The demo pages and assets (the same bytes every time, for tests and captures).
std::string demo_index_html();
std::string demo_about_html();
std::string demo_style_css();
std::string demo_app_js();
std::string demo_image_svg(int n);

}  // namespace tcplab::http
