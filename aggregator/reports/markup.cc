#include "aggregator/reports/markup.h"

#include <algorithm>
#include <cstdio>

#include "common/text.h"

namespace testfleet::aggregator {
namespace {

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // …

// The first line of valid UTF-8 `text` without carriage returns, cut to `limit` bytes with "…" marking the cut.
std::string oneLine(std::string_view text, size_t limit) {
  text = text.substr(0, text.find('\n'));
  std::string line;
  for (char c : utf8Prefix(text, limit)) {
    if (c != '\r') line += c;
  }
  if (text.size() > limit) line += kEllipsis;
  return line;
}

// & < > " ' as character references: what HTML needs, and what keeps raw HTML out of Markdown.
std::string characterReferences(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escapePipes(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string xmlCharacters(std::string_view text) {
  const std::string valid = validUtf8(text);
  const std::string_view chars = valid;
  std::string out;
  out.reserve(valid.size());
  for (size_t i = 0; i < chars.size(); ++i) {
    const auto c = static_cast<unsigned char>(chars[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else if (const std::string_view three = chars.substr(i, 3); three == "\xEF\xBF\xBE" || three == "\xEF\xBF\xBF") {
      out += kReplacementCharacter;  // U+FFFE, U+FFFF: the only characters of valid UTF-8 above U+001F XML forbids
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string htmlText(std::string_view text) { return characterReferences(xmlCharacters(text)); }

std::string markdownText(std::string_view text, size_t limit) {
  return escapePipes(characterReferences(oneLine(xmlCharacters(text), limit)));
}

std::string markdownCodeCell(std::string_view text, size_t limit) {
  const std::string content = escapePipes(oneLine(xmlCharacters(text), limit));
  size_t longest_run = 0;
  for (size_t run = 0; char c : content) {
    run = c == '`' ? run + 1 : 0;
    longest_run = std::max(longest_run, run);
  }
  const std::string fence(longest_run + 1, '`');
  // A code span drops one space at each end when both are there, and cannot start or end with its fence's character.
  const bool pad = content.empty() || content.front() == '`' || content.back() == '`' || content.front() == ' ' ||
                   content.back() == ' ';
  const std::string space = pad ? " " : "";
  return fence + space + content + space + fence;
}

}  // namespace testfleet::aggregator
