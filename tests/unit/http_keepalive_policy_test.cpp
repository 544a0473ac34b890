// Tests for http/keepalive_policy: each row of the table, then every combination of inputs
// against the rules stated independently (RFC 9112 §9.3, the HTTP/1.0 keep-alive extension).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "http/keepalive_policy.hpp"

using namespace tcplab::http;

namespace {
KeepAliveDecision decide(int minor, std::vector<std::string> tokens, bool on = true, uint32_t served = 1,
                         uint32_t max = 100, bool shutting = false) {
  return decide_keep_alive(KeepAliveInput{minor, tokens, on, served, max, shutting});
}
}  // namespace

TEST_CASE("table row 7: HTTP/1.1 without Connection stays open and sends no Connection header") {
  auto d = decide(1, {});
  CHECK(d.keep_open);
  CHECK(d.header == ConnectionHeader::None);
  CHECK_FALSE(d.keep_alive_params);
  CHECK(d.remaining == 99);
}

TEST_CASE("table row 3: Connection: close closes in both versions") {
  for (int minor : {0, 1}) {
    auto d = decide(minor, {"close"});
    CHECK_FALSE(d.keep_open);
    CHECK(d.header == ConnectionHeader::Close);
    CHECK(d.cause == CloseCause::ClientClose);
  }
  // close wins over keep-alive in the same header
  CHECK_FALSE(decide(0, {"keep-alive", "close"}).keep_open);
}

TEST_CASE("table rows 4 and 6: HTTP/1.0 closes unless it asks for keep-alive") {
  auto plain = decide(0, {});
  CHECK_FALSE(plain.keep_open);
  CHECK(plain.header == ConnectionHeader::Close);
  CHECK(plain.cause == CloseCause::Http10Default);
  auto ka = decide(0, {"keep-alive"}, true, 3, 10);
  CHECK(ka.keep_open);
  CHECK(ka.header == ConnectionHeader::KeepAlive);
  CHECK(ka.keep_alive_params);
  CHECK(ka.remaining == 7);
}

TEST_CASE("table row 2: --keepalive off answers every request with Connection: close") {
  for (int minor : {0, 1}) {
    for (auto tokens : {std::vector<std::string>{}, std::vector<std::string>{"keep-alive"}}) {
      auto d = decide(minor, tokens, false);
      CHECK_FALSE(d.keep_open);
      CHECK(d.header == ConnectionHeader::Close);
      CHECK(d.cause == CloseCause::ServerOff);
    }
  }
}

TEST_CASE("table row 5: max requests closes on the Nth request, not before") {
  CHECK(decide(1, {}, true, 2, 3).keep_open);
  auto d = decide(1, {}, true, 3, 3);
  CHECK_FALSE(d.keep_open);
  CHECK(d.cause == CloseCause::MaxRequests);
  CHECK(d.header == ConnectionHeader::Close);
  CHECK_FALSE(decide(1, {}, true, 1, 1).keep_open);  // --max-requests 1: connection per request
}

TEST_CASE("table row 1: shutting down closes whatever else holds") {
  auto d = decide(1, {"keep-alive"}, true, 1, 100, true);
  CHECK_FALSE(d.keep_open);
  CHECK(d.cause == CloseCause::ShuttingDown);
}

TEST_CASE("every combination obeys the rules") {
  std::vector<std::vector<std::string>> token_sets = {
      {}, {"close"}, {"keep-alive"}, {"keep-alive", "close"}, {"upgrade"}, {"te", "keep-alive"}};
  int cases = 0;
  for (int minor : {0, 1})
    for (const auto& tokens : token_sets)
      for (bool on : {false, true})
        for (uint32_t max : {1u, 2u, 100u})
          for (uint32_t served = 1; served <= max + 1 && served <= 101; ++served)
            for (bool shutting : {false, true}) {
              ++cases;
              auto d = decide(minor, tokens, on, served, max, shutting);
              bool has_close = std::find(tokens.begin(), tokens.end(), "close") != tokens.end();
              bool has_ka = std::find(tokens.begin(), tokens.end(), "keep-alive") != tokens.end();
              bool should_close = shutting || !on || has_close || (minor == 0 && !has_ka) || served >= max;
              INFO("minor=" << minor << " on=" << on << " served=" << served << " max=" << max
                            << " shutting=" << shutting << " close=" << has_close << " ka=" << has_ka);
              CHECK(d.keep_open == !should_close);
              if (should_close) {
                CHECK(d.header == ConnectionHeader::Close);
                CHECK_FALSE(d.keep_alive_params);
                CHECK(d.cause != CloseCause::None);
              } else {
                CHECK(d.cause == CloseCause::None);
                CHECK(d.remaining == max - served);
                CHECK(d.header == (minor == 0 ? ConnectionHeader::KeepAlive : ConnectionHeader::None));
                CHECK(d.keep_alive_params == (minor == 0));
              }
            }
  CHECK(cases > 1000);
}
