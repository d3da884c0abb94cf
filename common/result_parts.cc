#include "common/result_parts.h"

#include <google/protobuf/io/coded_stream.h>

#include <algorithm>

#include "common/text.h"

namespace testfleet {
namespace {

using google::protobuf::io::CodedOutputStream;

constexpr size_t kTagBytes = 2;                          // a field number below 2048
constexpr size_t kPartFieldBytes = 2 * (kTagBytes + 5);  // part and parts: uint32 varints
constexpr size_t kMinArtifactPiece = 4 << 10;            // less room than this: the piece goes in a new part

// The bytes a length-delimited field with `length` bytes of content takes in its message (at most).
size_t fieldBytes(size_t length) { return kTagBytes + CodedOutputStream::VarintSize64(length) + length; }

std::string cutNote(const std::string& what, size_t max_record_bytes) {
  return what + " cut to fit a result record of " + std::to_string(max_record_bytes) + " bytes";
}

// Cuts `text` to `limit` bytes (keepHeadAndTail); true when it did.
bool cut(std::string* text, size_t limit) {
  if (text->size() <= limit) return false;
  *text = keepHeadAndTail(*text, limit);
  return true;
}

// What every part carries: the result without its text and bulk; a name past a share of the record is cut.
v1::Result scalarFields(const v1::Result& whole, size_t max, std::vector<std::string>& notes) {
  v1::Result s = whole;
  s.clear_cases();
  s.clear_listed();
  s.clear_tests();
  s.clear_artifacts();
  s.clear_stdout_tail();
  s.clear_stderr_tail();
  s.clear_error();
  s.clear_notes();
  if (cut(s.mutable_name(), max / 16)) notes.push_back(cutNote("the job's name", max));
  return s;
}

// Part 1: the scalar fields and the text, which is cut when it takes more than half a record (tails and error to
// an eighth each, the notes to an eighth together), and the notes on what was cut.
v1::Result firstPart(const v1::Result& whole, const v1::Result& scalars, size_t max, std::vector<std::string> notes) {
  v1::Result first = scalars;
  first.set_stdout_tail(whole.stdout_tail());
  first.set_stderr_tail(whole.stderr_tail());
  first.set_error(whole.error());
  *first.mutable_notes() = whole.notes();
  if (first.ByteSizeLong() > max / 2) {
    bool cuts = cut(first.mutable_stdout_tail(), max / 8);
    cuts |= cut(first.mutable_stderr_tail(), max / 8);
    cuts |= cut(first.mutable_error(), max / 8);
    for (auto& n : *first.mutable_notes()) cuts |= cut(&n, max / 8 / static_cast<size_t>(first.notes_size()));
    if (cuts) notes.push_back(cutNote("the output tails, error and notes", max));
  }
  for (auto& n : notes) first.add_notes(std::move(n));
  return first;
}

// The repeated bulk, with what could never fit an empty part cut to half of one (counted).
struct Bulk {
  std::vector<v1::TestCase> cases;
  std::vector<std::string> listed, tests;
  std::vector<v1::Artifact> artifacts;
  size_t cut_cases = 0, cut_ids = 0, cut_paths = 0;
};

Bulk fittedBulk(const v1::Result& whole, size_t item_max) {
  Bulk b;
  const size_t share = item_max / 8;  // per text field of a case
  for (v1::TestCase c : whole.cases()) {
    if (fieldBytes(c.ByteSizeLong()) > item_max / 2) {
      for (std::string* text : {c.mutable_name(), c.mutable_classname(), c.mutable_message(), c.mutable_details()}) {
        cut(text, share);
      }
      ++b.cut_cases;
    }
    b.cases.push_back(std::move(c));
  }
  auto fitted = [&](const auto& ids, std::vector<std::string>& to) {
    for (std::string id : ids) {
      b.cut_ids += cut(&id, item_max / 2);
      to.push_back(std::move(id));
    }
  };
  fitted(whole.listed(), b.listed);
  fitted(whole.tests(), b.tests);
  for (v1::Artifact a : whole.artifacts()) {
    b.cut_paths += cut(a.mutable_path(), item_max / 4);
    b.artifacts.push_back(std::move(a));
  }
  return b;
}

std::vector<std::string> bulkNotes(const Bulk& b, size_t max) {
  std::vector<std::string> notes;
  if (b.cut_cases) notes.push_back(cutNote(std::to_string(b.cut_cases) + " test case(s)", max));
  if (b.cut_ids) notes.push_back(cutNote(std::to_string(b.cut_ids) + " test id(s)", max));
  if (b.cut_paths) notes.push_back(cutNote(std::to_string(b.cut_paths) + " artifact path(s)", max));
  return notes;
}

// Fills parts in order: each item goes into the current part while it has room, else into a new part (which
// starts with the scalar fields). Items must fit an empty part.
class PartFiller {
 public:
  PartFiller(v1::Result first, const v1::Result& scalars, size_t max)
      : scalars_(scalars), max_(max), empty_bytes_(scalars.ByteSizeLong() + kPartFieldBytes) {
    used_ = first.ByteSizeLong() + kPartFieldBytes;
    parts_.push_back(std::move(first));
  }
  // The room left in the current part, after starting a new part if it has less than `at_least`.
  size_t roomFor(size_t at_least) {
    if (max_ - used_ < at_least && used_ > empty_bytes_) {
      parts_.push_back(scalars_);
      used_ = empty_bytes_;
    }
    return max_ - used_;
  }
  // The part an item of `bytes` (its whole field) goes in, counted.
  v1::Result& add(size_t bytes) {
    roomFor(bytes);
    used_ += bytes;
    return parts_.back();
  }
  std::vector<v1::Result> numbered() && {
    for (size_t i = 0; i < parts_.size(); ++i) {
      parts_[i].set_part(static_cast<uint32_t>(i + 1));
      parts_[i].set_parts(static_cast<uint32_t>(parts_.size()));
    }
    return std::move(parts_);
  }

 private:
  const v1::Result& scalars_;
  size_t max_, empty_bytes_, used_ = 0;
  std::vector<v1::Result> parts_;
};

// An artifact in pieces: as much of its content as the current part has room for, the rest in the next parts.
void addArtifact(const v1::Artifact& a, PartFiller& parts) {
  v1::Artifact meta = a;
  meta.clear_content();
  meta.set_continues(true);  // counted as if set: the bound holds for every piece
  // The artifact's tag and length, its other fields, the content's tag and length (lengths: varints of <= 5 bytes).
  const size_t overhead = kTagBytes + 5 + meta.ByteSizeLong() + kTagBytes + 5;
  const std::string& content = a.content();
  size_t offset = 0;
  do {
    const size_t rest = content.size() - offset;
    const size_t take = std::min(rest, parts.roomFor(overhead + std::min(rest, kMinArtifactPiece)) - overhead);
    v1::Artifact* piece = parts.add(overhead + take).add_artifacts();
    *piece = meta;
    piece->set_continues(offset > 0);
    piece->set_content(content.substr(offset, take));
    offset += take;
  } while (offset < content.size());
}

}  // namespace

std::vector<v1::Result> splitResult(const v1::Result& whole, size_t max_record_bytes) {
  const size_t max = std::max(max_record_bytes, kMinResultRecordBytes);
  if (whole.ByteSizeLong() <= max) return {whole};
  std::vector<std::string> notes;
  const v1::Result scalars = scalarFields(whole, max, notes);
  const Bulk bulk = fittedBulk(whole, max - scalars.ByteSizeLong() - kPartFieldBytes);
  for (auto& n : bulkNotes(bulk, max)) notes.push_back(std::move(n));

  PartFiller parts(firstPart(whole, scalars, max, std::move(notes)), scalars, max);
  for (const auto& c : bulk.cases) *parts.add(fieldBytes(c.ByteSizeLong())).add_cases() = c;
  for (const auto& id : bulk.listed) parts.add(fieldBytes(id.size())).add_listed(id);
  for (const auto& id : bulk.tests) parts.add(fieldBytes(id.size())).add_tests(id);
  for (const auto& a : bulk.artifacts) addArtifact(a, parts);
  return std::move(parts).numbered();
}

std::string resultPartsSender(const v1::Result& part) {
  return part.worker_id() + "@" + std::to_string(part.started_at_ms());
}

std::string resultPartProblem(const v1::Result& r) {
  if (r.part() == 0 && r.parts() == 0) return "";
  if (r.part() >= 1 && r.part() <= r.parts()) return "";
  return "result part " + std::to_string(r.part()) + " of " + std::to_string(r.parts()) + " cannot be";
}

std::optional<v1::Result> mergeResultParts(const std::vector<v1::Result>& parts) {
  if (parts.empty() || parts[0].parts() == 0 || parts.size() < parts[0].parts()) return std::nullopt;
  const v1::Result& any = parts[0];
  std::vector<const v1::Result*> in_order(any.parts(), nullptr);
  for (const auto& p : parts) {
    if (p.parts() != any.parts() || p.part() < 1 || p.part() > p.parts() || p.run_id() != any.run_id() ||
        p.job_id() != any.job_id() || p.attempt() != any.attempt() || resultPartsSender(p) != resultPartsSender(any)) {
      return std::nullopt;
    }
    if (!in_order[p.part() - 1]) in_order[p.part() - 1] = &p;
  }
  if (std::count(in_order.begin(), in_order.end(), nullptr) > 0) return std::nullopt;

  v1::Result whole = *in_order[0];
  whole.clear_part();
  whole.clear_parts();
  whole.clear_artifacts();
  for (size_t i = 0; i < in_order.size(); ++i) {
    const v1::Result& p = *in_order[i];
    if (i > 0) {
      whole.mutable_cases()->MergeFrom(p.cases());
      whole.mutable_listed()->MergeFrom(p.listed());
      whole.mutable_tests()->MergeFrom(p.tests());
    }
    for (const auto& a : p.artifacts()) {
      if (a.continues() && whole.artifacts_size() > 0) {
        whole.mutable_artifacts(whole.artifacts_size() - 1)->mutable_content()->append(a.content());
      } else {
        *whole.add_artifacts() = a;
        whole.mutable_artifacts(whole.artifacts_size() - 1)->clear_continues();
      }
    }
  }
  return whole;
}

}  // namespace testfleet
