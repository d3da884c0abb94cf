#include "common/bundle_members.h"

#include <deque>
#include <iterator>

#include "common/workspace_paths.h"

namespace testfleet {
namespace {

constexpr int kMaxLinksFollowed = 40;  // the kernel's own limit (MAXSYMLINKS)

std::deque<std::string> splitParts(const std::string& path) {
  std::vector<std::string> parts = pathParts(path);
  return {std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end())};
}

const char* kindName(BundleMembers::Kind kind) {
  switch (kind) {
    case BundleMembers::Kind::kFolder:
      return "folder";
    case BundleMembers::Kind::kFile:
      return "file";
    case BundleMembers::Kind::kLink:
      return "link";
  }
  return "member";
}

}  // namespace

std::string BundleMembers::add(const std::string& path, Kind kind, const std::string& link_target) {
  std::string clean = path;
  while (clean.ends_with('/')) clean.pop_back();
  if (kind == Kind::kLink && (link_target.empty() || link_target.front() == '/')) {
    return "'" + clean + "' is a link to the absolute path '" + link_target + "'; links must be relative";
  }
  // Every folder above it: implied when missing, refused when a file or a link is there.
  for (size_t slash = clean.find('/'); slash != std::string::npos; slash = clean.find('/', slash + 1)) {
    const std::string above = clean.substr(0, slash);
    auto [it, fresh] = members_.try_emplace(above, Member{Kind::kFolder, {}});
    if (!fresh && it->second.kind != Kind::kFolder) {
      return "'" + clean + "' would be written through the " + kindName(it->second.kind) + " '" + above + "'";
    }
  }
  auto [it, fresh] = members_.try_emplace(clean, Member{kind, link_target});
  if (!fresh && !(kind == Kind::kFolder && it->second.kind == Kind::kFolder)) {
    return "'" + clean + "' is given twice (as a " + kindName(it->second.kind) + " and as a " + kindName(kind) + ")";
  }
  return "";
}

void BundleMembers::removeLink(const std::string& path) {
  auto it = members_.find(path);
  if (it != members_.end() && it->second.kind == Kind::kLink) members_.erase(it);
}

std::string BundleMembers::linkProblem(const std::string& path) const {
  auto link = members_.find(path);
  if (link == members_.end() || link->second.kind != Kind::kLink) return "";
  // Where the walk stands, as a path and the end of each of its parts: at first the link's folder.
  const size_t slash = path.rfind('/');
  std::string at = slash == std::string::npos ? "" : path.substr(0, slash);
  std::vector<size_t> ends;
  for (const auto& part : splitParts(at)) ends.push_back((ends.empty() ? 0 : ends.back() + 1) + part.size());
  std::deque<std::string> todo = splitParts(link->second.target);
  int followed = 1;
  while (!todo.empty()) {
    if (steps_left_ == 0) return "'" + path + "' is one of more links than can be followed";
    --steps_left_;
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (ends.empty()) return "'" + path + "' is a link to '" + link->second.target + "', which leaves the folder";
      ends.pop_back();
      at.resize(ends.empty() ? 0 : ends.back());
      continue;
    }
    at += (at.empty() ? "" : "/") + part;
    ends.push_back(at.size());
    auto member = members_.find(at);
    if (member == members_.end() || member->second.kind != Kind::kLink) continue;
    if (++followed > kMaxLinksFollowed) return "'" + path + "' is a link that loops";
    ends.pop_back();  // the link's own folder, where its target starts
    at.resize(ends.empty() ? 0 : ends.back());
    std::deque<std::string> next = splitParts(member->second.target);
    todo.insert(todo.begin(), next.begin(), next.end());
  }
  return "";
}

std::vector<std::string> BundleMembers::links() const {
  std::vector<std::string> out;
  for (const auto& [path, m] : members_) {
    if (m.kind == Kind::kLink) out.push_back(path);
  }
  return out;
}

}  // namespace testfleet
