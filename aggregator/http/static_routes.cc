#include "aggregator/http/static_routes.h"

#include "aggregator/http/responses.h"
#include "aggregator/http/static_files.h"

namespace testfleet::aggregator {
namespace {

const char* contentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".yaml")) return "application/yaml; charset=utf-8";
  return "application/octet-stream";
}

void serve(httplib::Response& res, std::string_view name) {
  auto content = staticFile(name);
  if (!content) return sendError(res, 404, "no file " + std::string(name) + " in the run browser");
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(std::string(*content), contentType(name));
}

}  // namespace

std::optional<std::string_view> staticFile(std::string_view name) {
  for (const auto& f : kStaticFiles) {
    if (f.name == name) return f.content;
  }
  return std::nullopt;
}

void addStaticRoutes(httplib::Server& server) {
  server.Get("/", [](const httplib::Request&, httplib::Response& res) { serve(res, "index.html"); });
  server.Get(R"(/web/([^/]+))",
             [](const httplib::Request& req, httplib::Response& res) { serve(res, req.matches[1].str()); });
  server.Get("/v1/openapi.yaml", [](const httplib::Request&, httplib::Response& res) { serve(res, "openapi.yaml"); });
}

}  // namespace testfleet::aggregator
