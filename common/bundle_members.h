// The members of a bundle — files, folders and symbolic links by relative path — and the one rule both sides
// apply to them: the producer when it packs a folder, the worker when it unpacks an archive it must treat as
// hostile. A link may stay only if following it, through the other members as the kernel would, never leads out
// of the bundle's folder; nothing may be a member below a link (written through it) or below a file.
// Pure: no I/O. Not thread-safe; one owner builds and asks it.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace testfleet {

class BundleMembers {
 public:
  enum class Kind { kFolder, kFile, kLink };

  // Records a member at a path isSafeRelativePath accepts (the caller checks that); its parent folders are implied.
  // Returns why it cannot be one, or "": the path is already another member (a folder may be given again), or a
  // part of it is a file or a link. A link's target must be relative: an absolute one is refused here.
  std::string add(const std::string& path, Kind kind, const std::string& link_target = {});

  // Removes a link that was added (the producer leaves out links that lead outside).
  void removeLink(const std::string& path);

  // Why following the link at `path` leaves the folder, or "" when it stays inside: each part of its target is
  // taken in turn from the link's folder, ".." going up (never above the top), a member link replaced by its own
  // target, a missing member or a file continuing by name (the kernel would stop there; this is stricter). More
  // than 40 links followed is a loop. All calls together take at most a million steps (a hostile archive of
  // many long links must not hold a worker); past that every link is a problem.
  std::string linkProblem(const std::string& path) const;

  // Every link's path, sorted.
  std::vector<std::string> links() const;

 private:
  struct Member {
    Kind kind = Kind::kFolder;
    std::string target;  // links only
  };
  std::map<std::string, Member> members_;
  mutable size_t steps_left_ = 1'000'000;  // linkProblem's budget, shared by all its calls
};

}  // namespace testfleet
