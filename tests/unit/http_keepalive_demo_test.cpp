// Tests for http/keepalive_demo: what each mode asks for, and the report's table and JSON.
#include <doctest/doctest.h>

#include <string>

#include "http/keepalive_demo.hpp"

using namespace tcplab;
using namespace tcplab::http::demo;

TEST_CASE("the page's paths: the HTML first, then style, script and images, at most 8 assets") {
  CHECK(page_paths(0) == std::vector<std::string>{"/"});
  CHECK(page_paths(2) == std::vector<std::string>{"/", "/style.css", "/app.js"});
  auto all = page_paths(8);
  REQUIRE(all.size() == 9);
  CHECK(all[3] == "/img/1.svg");
  CHECK(all.back() == "/img/6.svg");
  CHECK(page_paths(50).size() == 9);
}

TEST_CASE("each mode's plan") {
  PlanOptions o;
  o.assets = 2;
  o.keepalive_timeout = seconds(2);
  o.max_requests = 2;

  auto close = make_plan(Mode::Http10Close, o);
  CHECK(close.http10);
  CHECK(close.requests.size() == 3);

  auto keep = make_plan(Mode::KeepAlive, o);
  CHECK_FALSE(keep.http10);
  CHECK(keep.max_requests == 0);
  CHECK(keep.requests.size() == 3);

  // The page again after a pause longer than the idle timeout, so the server has closed.
  auto idle = make_plan(Mode::IdleTimeout, o);
  REQUIRE(idle.requests.size() == 4);
  CHECK(idle.requests.back().path == "/");
  CHECK(idle.requests.back().pause_before > o.keepalive_timeout);
  CHECK(idle.requests[1].pause_before == Duration{});

  // With a long emulated delay the pause grows, so the server's FIN has crossed the link.
  o.one_way_delay = milliseconds(400);
  const Duration pause = make_plan(Mode::IdleTimeout, o).requests.back().pause_before;
  CHECK(pause >= o.keepalive_timeout + milliseconds(1600));

  auto capped = make_plan(Mode::MaxRequests, o);
  CHECK(capped.max_requests == 2);
  CHECK_FALSE(capped.http10);
}

TEST_CASE("mode names are the JSON contract") {
  CHECK(mode_name(Mode::Http10Close) == "http1.0-close");
  CHECK(mode_name(Mode::KeepAlive) == "http1.1-keepalive");
  CHECK(mode_name(Mode::IdleTimeout) == "keepalive-idle-timeout");
  CHECK(mode_name(Mode::MaxRequests) == "keepalive-max-requests");
}

TEST_CASE("the JSON rows carry exactly the contract's keys, in order") {
  Row r{"http1.1-keepalive", 20, 9, 1, 1, 26, 1068, 0.5, 0, 1};
  const std::string json = format_json({r});
  CHECK(json ==
        "[\n  {\"mode\": \"http1.1-keepalive\", \"delay_ms\": 20, \"requests\": 9, \"connections\": 1, "
        "\"handshakes\": 1, \"segments\": 26, \"header_bytes\": 1068, \"seconds\": 0.500000, "
        "\"time_wait_server\": 0, \"time_wait_client\": 1}\n]\n");
  CHECK(format_json({}) == "[]\n");
}

TEST_CASE("the table has a header and one aligned line per row") {
  Row a{"http1.0-close", 0, 9, 9, 9, 81, 3492, 0.001, 9, 0};
  Row b{"http1.1-keepalive", 20, 9, 1, 1, 26, 1068, 0.41, 0, 1};
  const std::string table = format_table({a, b});
  const std::string head =
      "mode               delay  requests  conns  handshakes  segments  hdr bytes  seconds  TIME-WAIT\n";
  const std::string row_a =
      "http1.0-close       0 ms         9      9           9        81       3492    0.001  "
      "server 9, client 0\n";
  const std::string row_b =
      "http1.1-keepalive  20 ms         9      1           1        26       1068    0.410  "
      "server 0, client 1\n";
  CHECK(table == head + row_a + row_b);
}
