// Text from tests made safe for each report's markup. A report must stay well-formed whatever a test printed, so
// every function here accepts any bytes: invalid UTF-8 becomes U+FFFD first (validUtf8 in common/text.h).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace testfleet::aggregator {

// Only characters XML 1.0 allows (#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]): other
// C0 controls are shown as "\xNN" (test output is full of terminal colour codes), U+FFFE and U+FFFF become U+FFFD.
// Markup characters are left to the caller's XML writer.
std::string xmlCharacters(std::string_view text);

// Text for HTML element content or a quoted attribute: xmlCharacters, with & < > " ' as character references.
std::string htmlText(std::string_view text);

// One line of Markdown shown literally, in a paragraph, a list item or a table cell: the first line of
// xmlCharacters(text) cut to `limit` bytes on a character boundary ("…" marks the cut), & < > " ' as character
// references (so `<script>` stays text on GitHub), | escaped (so a table row stays one row).
std::string markdownText(std::string_view text, size_t limit = 200);

// The same line as a Markdown code span for a table cell (test names): fenced by more backticks than any run
// inside it, | escaped (GitHub takes the backslash out in a table cell); nothing else is interpreted in a code span.
std::string markdownCodeCell(std::string_view text, size_t limit = 200);

}  // namespace testfleet::aggregator
