#include "producer/github_annotations.h"

#include <vector>

#include "common/text.h"
#include "common/verdict.h"
#include "producer/run_follower.h"

namespace testfleet::producer {
namespace {

constexpr size_t kMaxMessage = 4000;  // bytes of one annotation's message, before escaping

std::string escape(std::string_view text, bool property) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      case ':':
        out += property ? "%3A" : ":";
        break;
      case ',':
        out += property ? "%2C" : ",";
        break;
      default:
        out += c;
    }
  }
  return out;
}

struct Annotation {
  std::string file;
  uint32_t line = 0;
  std::string title;
  std::string message;
};

std::string command(const Annotation& a) {
  std::string out = "::error ";
  if (!a.file.empty()) {
    out += "file=" + escapeCommandProperty(a.file) + ",";
    if (a.line > 0) out += "line=" + std::to_string(a.line) + ",";
  }
  out += "title=" + escapeCommandProperty(a.title) + "::" + escapeCommandData(keepHeadAndTail(a.message, kMaxMessage));
  return out + "\n";
}

// Every failing test as an annotation: the failing cases, then the failing jobs that reported none (a crash before
// any test ran, a sandbox that could not start), which would otherwise fail the run unseen.
std::vector<Annotation> annotations(const api::RunView& run) {
  std::vector<Annotation> all;
  for (const auto& [job, c] : failingCases(run)) {
    all.push_back({c->file, c->line, c->status + ": " + testName(*c) + " (" + job->name + ")",
                   c->message.empty() ? "test " + c->status : c->message});
  }
  if (!run.jobs) return all;
  for (const auto& job : *run.jobs) {
    const auto verdict = verdictFromName(job.verdict);
    if (!job.cases.empty() || (verdict && !isFailing(*verdict))) continue;
    std::string message = job.error.empty() ? "job " + job.verdict : job.error;
    if (!job.stderr_tail.empty()) message += "\n" + job.stderr_tail;
    all.push_back({"", 0, job.verdict + ": job " + job.name, message});
  }
  return all;
}

}  // namespace

std::string escapeCommandData(std::string_view text) { return escape(text, false); }

std::string escapeCommandProperty(std::string_view text) { return escape(text, true); }

std::string githubAnnotations(const api::RunView& run, size_t limit) {
  const std::vector<Annotation> all = annotations(run);
  std::string out;
  for (size_t i = 0; i < all.size() && i < limit; ++i) out += command(all[i]);
  if (all.size() > limit) {
    out += "::warning title=testfleet::" + std::to_string(all.size() - limit) + " more failing test(s) of run " +
           escapeCommandData(run.run_id) + " are not annotated; the summary lists them\n";
  }
  return out;
}

}  // namespace testfleet::producer
