// Patterns over paths relative to a folder, in gitignore's syntax: what a bundle leaves out (the defaults, a
// folder's .testfleetignore, a suite's `exclude:`), and what any other walk of a test tree may want to match.
// Pure: no I/O. A PathPatterns is not changed after it is built, so readers may share it across threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace testfleet {

// One pattern as gitignore reads it: "#" starts a comment, "!" re-includes, a trailing "/" matches folders only,
// a "/" at the start or in the middle anchors the pattern at the folder's top (else it matches at any depth),
// "*" and "?" and "[a-z]" match within one path part, "**" as a whole part matches any number of parts (a
// trailing "/**" everything inside), "\" escapes the next character.
struct PathRule {
  std::string text;    // as written, for messages
  std::string source;  // where it came from ("default", ".testfleetignore:3", "exclude"), for what submit prints
  bool negated = false;
  bool folders_only = false;
  std::vector<std::string> parts;  // split on "/"; unanchored patterns start with "**"
};

class PathPatterns {
 public:
  // Adds one line; blank lines and comments add nothing. Returns why the line cannot be a pattern ("" when it can
  // or is a comment): a ".." part, which could only name something outside the folder.
  std::string add(std::string_view line, std::string source);

  // The last rule that matches `path` itself ("a/b", no leading "/"), or nullptr. Rules added later win, as lines
  // further down a .gitignore do; a negated rule's match means "keep".
  const PathRule* lastMatch(std::string_view path, bool is_folder) const;

  // The rule that leaves `path` out, or nullptr when it stays: a folder above it is left out (nothing below a
  // folder left out can be re-included, as in git), or the last rule matching it is not negated. For callers that
  // have a path and no walk (a planner); a walk asks lastMatch once per entry and skips folders left out.
  const PathRule* excluder(std::string_view path, bool is_folder) const;

  bool empty() const { return rules_.empty(); }
  const std::vector<PathRule>& rules() const { return rules_; }

 private:
  std::vector<PathRule> rules_;
};

// Whether `path` ("a/b/c.py") matches a slash-separated glob whose "**" parts match any number of path parts and
// whose other parts match one part each ("*", "?", "[…]" never cross a "/"): `tests/**/test_*.py`.
bool pathGlobMatch(std::string_view glob, std::string_view path);

}  // namespace testfleet
