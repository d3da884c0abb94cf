#include "common/path_patterns.h"

#include <fnmatch.h>

#include "common/workspace_paths.h"

namespace testfleet {
namespace {

// glob[g..] against path[p..], part by part. A "**" part matches any number of parts, except at the end, where it
// matches one or more (everything inside a folder, not the folder itself).
bool matchParts(const std::vector<std::string>& glob, size_t g, const std::vector<std::string>& path, size_t p) {
  if (g == glob.size()) return p == path.size();
  if (glob[g] == "**") {
    if (g + 1 == glob.size()) return p < path.size();
    for (size_t skip = p; skip <= path.size(); ++skip) {
      if (matchParts(glob, g + 1, path, skip)) return true;
    }
    return false;
  }
  if (p == path.size()) return false;
  // One part holds no "/", so fnmatch needs no FNM_PATHNAME; no FNM_PERIOD: "*" matches a leading dot, as in git.
  if (::fnmatch(glob[g].c_str(), path[p].c_str(), 0) != 0) return false;
  return matchParts(glob, g + 1, path, p + 1);
}

// Trailing spaces end a pattern unless escaped ("a\ "); a trailing "\r" is a Windows line end.
std::string_view trimEnd(std::string_view line) {
  while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  while (!line.empty() && line.back() == ' ' && !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
    line.remove_suffix(1);
  }
  return line;
}

}  // namespace

std::string PathPatterns::add(std::string_view line, std::string source) {
  line = trimEnd(line);
  if (line.empty() || line.front() == '#') return "";
  PathRule rule;
  rule.text = std::string(line);
  rule.source = std::move(source);
  if (line.front() == '!') {
    rule.negated = true;
    line.remove_prefix(1);
  } else if (line.starts_with("\\#") || line.starts_with("\\!")) {
    line.remove_prefix(1);
  }
  if (!line.empty() && line.back() == '/') {
    rule.folders_only = true;
    line.remove_suffix(1);
  }
  // A "/" left anywhere (the start or the middle) anchors the pattern at the folder's top.
  const bool anchored = line.find('/') != std::string_view::npos;
  rule.parts = pathParts(line);
  std::erase(rule.parts, ".");
  if (rule.parts.empty()) return "";  // "/" or "!": matches nothing, as in git
  for (const auto& part : rule.parts) {
    if (part == "..") return "pattern '" + rule.text + "' has a '..' part; patterns name paths inside the folder";
  }
  if (!anchored && rule.parts.front() != "**") rule.parts.insert(rule.parts.begin(), "**");
  rules_.push_back(std::move(rule));
  return "";
}

const PathRule* PathPatterns::lastMatch(std::string_view path, bool is_folder) const {
  const std::vector<std::string> parts = pathParts(path);
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    if (it->folders_only && !is_folder) continue;
    if (matchParts(it->parts, 0, parts, 0)) return &*it;
  }
  return nullptr;
}

const PathRule* PathPatterns::excluder(std::string_view path, bool is_folder) const {
  size_t slash = path.find('/');
  while (slash != std::string_view::npos) {
    if (slash > 0) {
      if (const PathRule* r = lastMatch(path.substr(0, slash), true); r && !r->negated) return r;
    }
    slash = path.find('/', slash + 1);
  }
  const PathRule* r = lastMatch(path, is_folder);
  return r && !r->negated ? r : nullptr;
}

bool pathGlobMatch(std::string_view glob, std::string_view path) {
  return matchParts(pathParts(glob), 0, pathParts(path), 0);
}

}  // namespace testfleet
