#include "aggregator/http/query_params.h"

#include <charconv>

#include "common/run_id.h"

namespace testfleet::aggregator {
namespace {

constexpr size_t kMaxParamBytes = 512;

std::optional<uint64_t> wholeNumber(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

RunQuery::Status statusNamed(const std::string& name) {
  if (name == "running") return RunQuery::Status::running;
  if (name == "complete") return RunQuery::Status::complete;
  if (name == "passed") return RunQuery::Status::passed;
  if (name == "failed") return RunQuery::Status::failed;
  throw BadQuery("status must be running, complete, passed or failed, not '" + name + "'");
}

}  // namespace

void requireKnownParams(const httplib::Request& req, const std::vector<std::string_view>& known) {
  for (const auto& [name, value] : req.params) {
    bool ok = false;
    for (auto k : known) ok = ok || k == name;
    if (ok) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    throw BadQuery("unknown query parameter '" + name + "'; " + req.path + " takes " +
                   (list.empty() ? std::string("none") : list));
  }
}

size_t numberParam(const httplib::Request& req, const std::string& name, size_t fallback, size_t lo, size_t hi) {
  if (!req.has_param(name)) return fallback;
  auto n = wholeNumber(req.get_param_value(name));
  if (!n || *n < lo || *n > hi) {
    throw BadQuery(name + " must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<size_t>(*n);
}

std::string requiredParam(const httplib::Request& req, const std::string& name) {
  std::string value = req.get_param_value(name);
  if (value.empty() || value.size() > kMaxParamBytes) {
    throw BadQuery("give ?" + name + "=… (not empty, at most " + std::to_string(kMaxParamBytes) + " bytes)");
  }
  return value;
}

RunQuery runQuery(const httplib::Request& req) {
  requireKnownParams(req, {"suite", "status", "label", "limit", "cursor"});
  RunQuery q;
  if (req.has_param("suite")) q.suite = requiredParam(req, "suite");
  if (req.has_param("status")) q.status = statusNamed(req.get_param_value("status"));
  for (size_t i = 0; i < req.get_param_value_count("label"); ++i) {
    const std::string label = req.get_param_value("label", i);
    const auto colon = label.find(':');
    if (colon == std::string::npos || colon == 0 || label.size() > kMaxParamBytes) {
      throw BadQuery("label must be KEY:VALUE (e.g. label=branch:main), not '" + label + "'");
    }
    if (!q.labels.emplace(label.substr(0, colon), label.substr(colon + 1)).second) {
      throw BadQuery("label " + label.substr(0, colon) + " is given twice; a run has one value per label");
    }
  }
  q.limit = numberParam(req, "limit", 50, 1, 1000);
  if (req.has_param("cursor")) {
    q.after = decodeCursor(req.get_param_value("cursor"));
    if (!q.after) throw BadQuery("cursor is not one this server gave as next_cursor");
  }
  return q;
}

std::string encodeCursor(const RunCursor& cursor) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const std::string plain = std::to_string(cursor.submitted_at_ms) + ":" + cursor.run_id;
  std::string out;
  for (unsigned char c : plain) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::optional<RunCursor> decodeCursor(std::string_view text) {
  if (text.empty() || text.size() % 2 != 0 || text.size() > 2 * kMaxParamBytes) return std::nullopt;
  std::string plain;
  for (size_t i = 0; i < text.size(); i += 2) {
    unsigned byte = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, byte, 16);
    if (ec != std::errc() || end != text.data() + i + 2) return std::nullopt;
    plain += static_cast<char>(byte);
  }
  const auto colon = plain.find(':');
  if (colon == std::string::npos) return std::nullopt;
  auto ms = wholeNumber(std::string_view(plain).substr(0, colon));
  std::string run_id = plain.substr(colon + 1);
  if (!ms || !isValidRunId(run_id)) return std::nullopt;
  return RunCursor{static_cast<int64_t>(*ms), std::move(run_id)};
}

}  // namespace testfleet::aggregator
