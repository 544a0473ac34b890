// Text placed inside HTML or XML (the /stats page, the SVG ladder): one escaper for both.
#pragma once

#include <string>
#include <string_view>

namespace tcplab::text {

// Escapes &, <, >, " and ' so the text is safe in element content and in quoted attributes
// of both HTML and XML. Control characters other than tab become '?', because XML 1.0 §2.2
// forbids them even as character references.
std::string markup_escape(std::string_view text);

}  // namespace tcplab::text
