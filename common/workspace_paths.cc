#include "common/workspace_paths.h"

namespace testfleet {

bool isSafeRelativePath(std::string_view path, size_t max_bytes) {
  if (path.empty() || path.size() > max_bytes || path.front() == '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::vector<std::string> pathParts(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool leftOutOfTree(std::string_view leaf) {
  return leaf.starts_with(".") || leaf == "__pycache__" || leaf == "node_modules";
}

}  // namespace testfleet
