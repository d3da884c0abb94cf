#include <doctest/doctest.h>

#include "common/text.h"
#include "worker/sandbox/process.h"

using namespace testfleet;

TEST_CASE("keepHeadAndTail keeps both ends and says what it cut") {
  std::string text = "HEAD" + std::string(10000, 'x') + "TAIL";
  std::string kept = keepHeadAndTail(text, 100);
  CHECK(kept.starts_with("HEAD"));
  CHECK(kept.ends_with("TAIL"));
  CHECK(kept.find("cut 9908 bytes") != std::string::npos);
  CHECK(keepHeadAndTail("short", 100) == "short");
}

TEST_CASE("BoundedOutput streams keep head and tail within the limit") {
  worker::BoundedOutput out(1000);
  out.append("BEGIN", 5);
  std::string chunk(4096, 'y');
  for (int i = 0; i < 100; ++i) out.append(chunk.data(), chunk.size());
  out.append("END", 3);
  std::string text = out.text();
  CHECK(out.total() == 5 + 100 * 4096 + 3);
  CHECK(text.starts_with("BEGIN"));
  CHECK(text.ends_with("END"));
  CHECK(text.size() < 1100);
}

TEST_CASE("shellQuote survives quotes") {
  CHECK(shellQuote("it's") == "'it'\\''s'");
  CHECK(shellQuote("a b") == "'a b'");
}

TEST_CASE("shortHash is stable and distinguishes inputs") {
  CHECK(shortHash("abc") == shortHash("abc"));
  CHECK(shortHash("abc") != shortHash("abd"));
  CHECK(shortHash("abc").size() == 16);
}

TEST_CASE("validUtf8 keeps valid text and replaces each maximal invalid subpart with one U+FFFD") {
  CHECK(validUtf8("plain ascii") == "plain ascii");
  CHECK(validUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(validUtf8("caf\xe9\n") == "caf\xef\xbf\xbd\n");                        // one Latin-1 byte
  CHECK(validUtf8("\xc3") == "\xef\xbf\xbd");                                  // a character cut short at the end
  CHECK(validUtf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");                  // overlong '/'
  CHECK(validUtf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  CHECK(validUtf8(std::string("a\0b", 3)) == std::string("a\0b", 3));          // NUL is valid UTF-8
  // The example of Unicode 15, table 3-8: a F1 80 80 E1 80 C2 b 80 c 80 BF d.
  const std::string r = "\xef\xbf\xbd";
  CHECK(validUtf8("a\xf1\x80\x80\xe1\x80\xc2"
                  "b\x80"
                  "c\x80\xbf"
                  "d") == "a" + r + r + r + "b" + r + "c" + r + r + "d");
}

TEST_CASE("utf8Prefix and utf8Suffix never end or start inside a character") {
  const std::string text = "a\xc3\xa9\xf0\x9f\x98\x80z";  // a é 😀 z: bytes 0 | 1-2 | 3-6 | 7
  CHECK(utf8Prefix(text, 2) == "a");
  CHECK(utf8Prefix(text, 3) == "a\xc3\xa9");
  CHECK(utf8Prefix(text, 6) == "a\xc3\xa9");
  CHECK(utf8Prefix(text, 7) == "a\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(utf8Suffix(text, 2) == "z");
  CHECK(utf8Suffix(text, 5) == "\xf0\x9f\x98\x80z");
  CHECK(utf8Suffix(text, 6) == "\xf0\x9f\x98\x80z");
  CHECK(utf8Suffix(text, 7) == "\xc3\xa9\xf0\x9f\x98\x80z");
  CHECK(utf8Prefix(text, 100) == text);
}

TEST_CASE("keepHeadAndTail of 70,000 'é' cuts between characters: the 64 KiB tail stays valid UTF-8") {
  std::string e_acute;
  for (int i = 0; i < 70000; ++i) e_acute += "\xc3\xa9";
  for (const std::string& output : {e_acute, e_acute + "\n", "x" + e_acute}) {
    for (size_t limit : {size_t{65536}, size_t{65537}, size_t{1001}, size_t{7}}) {
      const std::string kept = keepHeadAndTail(output, limit);
      CAPTURE(output.size());
      CAPTURE(limit);
      CHECK(validUtf8(kept) == kept);                         // valid as it is…
      CHECK(kept.find("\xef\xbf\xbd") == std::string::npos);  // …not by replacing what was cut
      CHECK(kept.size() <= limit + 64);
    }
  }
}

TEST_CASE("closestWord finds the likely meant word within a third of its length") {
  const std::vector<std::string> keys = {"framework", "timeout", "env", "tests", "teardown"};
  CHECK(closestWord("tmeout", keys) == "timeout");
  CHECK(closestWord("tiemout", keys) == "timeout");  // two neighbours swapped: one edit
  CHECK(closestWord("frameworks", keys) == "framework");
  CHECK(closestWord("test", keys) == "tests");
  CHECK(closestWord("evn", keys) == "env");
  CHECK(closestWord("colour", keys).empty());
  CHECK(closestWord("xyz", keys).empty());
  CHECK(closestWord("timeout", {}).empty());
}

TEST_CASE("splitLines: each line without its newline or CRLF, a last line without one too") {
  using Lines = std::vector<std::string_view>;
  CHECK(splitLines("a\nb\r\n\nc") == Lines{"a", "b", "", "c"});
  CHECK(splitLines("a\n") == Lines{"a"});
  CHECK(splitLines("").empty());
}
