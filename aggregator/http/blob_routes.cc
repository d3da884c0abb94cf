#include "aggregator/http/blob_routes.h"

#include <algorithm>
#include <fstream>
#include <memory>

#include "aggregator/http/responses.h"

namespace testfleet::aggregator {
namespace {

void sendProblem(httplib::Response& res, const BlobProblem& problem) {
  switch (problem.kind) {
    case BlobProblem::kTooLarge:
      return sendError(res, 413, problem.message);
    case BlobProblem::kNoRoom:
      return sendError(res, 507, problem.message);
    case BlobProblem::kWrongHash:
      return sendError(res, 400, problem.message);
    case BlobProblem::kWriteFailed:
      return sendError(res, 500, problem.message);
  }
}

// The declared body size: nullopt when there is none (chunked); throws std::invalid_argument when unreadable.
std::optional<uint64_t> declaredLength(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return std::nullopt;
  const std::string text = req.get_header_value("Content-Length");
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("Content-Length is not a number");
  }
  return std::stoull(text);
}

void put(BlobStore& store, const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& body) {
  const std::string hash = req.matches[1];
  if (store.contains(hash)) {
    // The body is left unread, which ends the connection after this answer.
    return res.set_content(dump({{"sha256", hash}, {"stored", false}}), "application/json");
  }
  std::optional<uint64_t> declared;
  try {
    declared = declaredLength(req);
  } catch (const std::exception&) {
    return sendError(res, 400, "Content-Length is not a number");
  }
  BlobStore::Admission admission = store.begin(hash, declared);
  if (!admission.upload) return sendProblem(res, *admission.problem);
  BlobStore::Upload& upload = *admission.upload;
  const bool received = body([&](const char* data, size_t length) { return upload.write({data, length}); });
  if (upload.problem()) return sendProblem(res, *upload.problem());
  if (!received) return sendError(res, 400, "the body ended before its Content-Length");
  if (!upload.finish()) return sendProblem(res, *upload.problem());
  res.status = 201;
  res.set_content(dump({{"sha256", hash}, {"stored", true}, {"bytes", upload.bytes()}}), "application/json");
}

void get(BlobStore& store, const httplib::Request& req, httplib::Response& res) {
  const std::string hash = req.matches[1];
  const auto path = store.use(hash);
  if (!path) return sendError(res, 404, "no blob " + hash);
  if (req.method == "HEAD") return;  // "is it there?" (submit asks before uploading): no need to open it
  auto file = std::make_shared<std::ifstream>(*path, std::ios::binary);
  std::error_code ec;
  const auto size = std::filesystem::file_size(*path, ec);
  if (!*file || ec) return sendError(res, 500, "cannot read blob " + hash);
  res.set_content_provider(size, "application/octet-stream",
                           [file](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::string chunk(std::min<size_t>(length, 64 << 10), '\0');
                             file->seekg(static_cast<std::streamoff>(offset));
                             file->read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
                             if (file->gcount() <= 0) return false;
                             return sink.write(chunk.data(), static_cast<size_t>(file->gcount()));
                           });
}
}  // namespace

void addBlobRoutes(httplib::Server& server, BlobStore& store) {
  server.Put(kBlobPath, [&store](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& body) { put(store, req, res, body); });
  server.Get(kBlobPath, [&store](const httplib::Request& req, httplib::Response& res) { get(store, req, res); });
}

}  // namespace testfleet::aggregator
