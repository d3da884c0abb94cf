#include "producer/run_link.h"

#include <string_view>

namespace testfleet::producer {
namespace {

std::string runUrl(const std::string& public_url, const std::string& run_id) {
  std::string_view base = public_url;
  while (base.ends_with('/')) base.remove_suffix(1);
  return std::string(base) + "/v1/runs/" + run_id;
}

}  // namespace

std::string publicUrlProblem(const std::string& url) {
  if (!url.starts_with("http://") && !url.starts_with("https://"))
    return "'" + url + "' is not an http:// or https:// URL";
  for (unsigned char c : url) {
    if (c <= ' ' || c == 0x7f || std::string_view("<>()\"'`|[]").find(static_cast<char>(c)) != std::string_view::npos)
      return "'" + url + "' holds a space, control character or one of < > ( ) \" ' ` | [ ]";
  }
  return "";
}

std::string runReportUrl(const std::string& public_url, const std::string& run_id) {
  return runUrl(public_url, run_id) + "/report.html";
}

std::string withRunLink(const std::string& markdown, const std::string& public_url, const std::string& run_id) {
  const std::string link = "[Open run `" + run_id + "`](" + runReportUrl(public_url, run_id) + ") · [JSON](" +
                           runUrl(public_url, run_id) + ")\n\n";
  const size_t heading_end = markdown.find('\n');
  if (heading_end == std::string::npos) return link + markdown;
  const size_t after = markdown.compare(heading_end, 2, "\n\n") == 0 ? heading_end + 2 : heading_end + 1;
  return markdown.substr(0, after) + link + markdown.substr(after);
}

}  // namespace testfleet::producer
