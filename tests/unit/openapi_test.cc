// The API's OpenAPI description (aggregator/http/openapi.yaml) against the routes the server registers: every
// route registered in aggregator/http/*.cc is described, and every described path and method answers on a real
// server (with a handler of its own: not httplib's empty 404 for a path no route matches).
#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "aggregator/http/api_server.h"
#include "aggregator/http/blob_routes.h"
#include "aggregator/http/static_routes.h"
#include "aggregator/storage/sqlite_result_store.h"
#include "common/http_client.h"
#include "tests/unit/temp_db.h"
#include "tests/unit/temp_dir.h"

using namespace testfleet;
using namespace testfleet::aggregator;
using testfleet::testing::TempDb;
using testfleet::testing::TempDir;
namespace fs = std::filesystem;

namespace {

struct Route {
  std::string method;  // "GET", "PUT", …
  std::string path;    // a regex (registered) or a path with a sample in each {parameter} (described)
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Each `server.Get(...)`, `.Put`, `.Post`, … (and ApiServer's suiteRoute, a GET) in the API's sources, with its
// path pattern.
std::vector<Route> registeredRoutes() {
  static const std::regex call(
      R"re((?:server\.(Get|Put|Post|Delete|Patch|Options)|(suiteRoute))\(\s*(?:R"\(([\s\S]*?)\)"|"([^"]*)"|(\w+)))re");
  std::vector<Route> out;
  for (const auto& entry : fs::directory_iterator(fs::path(TESTFLEET_SOURCE_DIR) / "aggregator/http")) {
    if (entry.path().extension() != ".cc") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (std::sregex_iterator it(source.begin(), source.end(), call), end; it != end; ++it) {
      const auto& m = *it;
      // suiteRoute's declaration, and its server.Get(pattern, …): its callers name the routes.
      if (m[5].matched && (m[2].matched || m[5].str() == "pattern")) continue;
      std::string pattern = m[3].matched ? m[3].str() : m[4].str();
      if (m[5].matched) {
        INFO("a route whose path is the constant ", m[5].str(), " in ", entry.path().filename().string());
        REQUIRE((m[5].str() == "kBlobPath" || m[5].str() == "kCancelPath"));  // teach it any other constant's value
        pattern = m[5].str() == "kBlobPath" ? kBlobPath : kCancelPath;
      }
      out.push_back({m[2].matched ? "GET" : upper(m[1]), pattern});  // suiteRoute registers a GET
    }
  }
  return out;
}

// Each path and method the description gives, its path parameters filled with samples.
std::vector<Route> describedRoutes(const YAML::Node& doc) {
  static const std::map<std::string, std::string> samples = {
      {"run_id", "r1"}, {"job_id", "job"},      {"path", "out/log.txt"},
      {"suite", "s"},   {"file", "browser.js"}, {"sha256", std::string(64, 'a')},
  };
  static const std::regex param(R"(\{(\w+)\})");
  std::vector<Route> out;
  for (const auto& p : doc["paths"]) {
    const std::string path = p.first.as<std::string>();
    std::string filled;
    auto last = path.cbegin();
    for (std::sregex_iterator it(path.begin(), path.end(), param), end; it != end; ++it) {
      filled.append(last, (*it)[0].first);
      auto sample = samples.find((*it)[1]);
      INFO("no sample for the path parameter ", (*it)[1].str(), " of ", path);
      REQUIRE(sample != samples.end());
      filled += sample->second;
      last = (*it)[0].second;
    }
    filled.append(last, path.cend());
    for (const auto& op : p.second) {
      const std::string method = op.first.as<std::string>();
      if (method == "parameters" || method == "summary" || method == "description") continue;
      out.push_back({upper(method), filled});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("the OpenAPI description is served and describes exactly the routes the server has") {
  TempDb db("openapi");
  TempDir blobs("openapi-blobs");
  SqliteResultStore store(db.path);
  AggregatorMetrics metrics;
  BlobStore blob_store(BlobSettings{blobs.path}, std::make_unique<FilesystemDiskSpace>());
  ApiSettings settings{{}, &blob_store, ""};
  settings.cancel_run = [](const std::string&) { return std::string(); };
  ApiServer api(store, metrics, settings);
  const std::string base = "http://127.0.0.1:" + std::to_string(api.start("127.0.0.1", 0));
  HttpClient http;

  const HttpResponse served = http.get(base + "/v1/openapi.yaml");
  REQUIRE(served.status == 200);
  REQUIRE(staticFile("openapi.yaml"));
  CHECK(served.body == *staticFile("openapi.yaml"));
  const YAML::Node doc = YAML::Load(served.body);
  CHECK(doc["openapi"].as<std::string>().starts_with("3."));

  const std::vector<Route> registered = registeredRoutes();
  const std::vector<Route> described = describedRoutes(doc);
  CHECK(registered.size() >= 15);  // the scan found the API's routes
  for (const auto& r : registered) {
    const std::regex pattern(r.path);
    bool found = false;
    for (const auto& d : described) found = found || (d.method == r.method && std::regex_match(d.path, pattern));
    CHECK_MESSAGE(found, r.method, " ", r.path, " is registered but not described in aggregator/http/openapi.yaml");
  }

  // httplib answers a path no route matches with an empty 404; every handler answers with a body.
  const HttpResponse unrouted = http.get(base + "/v1/no-such-route");
  REQUIRE(unrouted.status == 404);
  REQUIRE(unrouted.body.empty());
  for (const auto& d : described) {
    HttpResponse r;
    if (d.method == "GET") {
      r = http.get(base + d.path);
    } else if (d.method == "PUT") {
      r = http.put(base + d.path, "not the blob", "application/octet-stream");
    } else if (d.method == "POST") {
      r = http.post(base + d.path, "", "application/json");
    } else {
      FAIL("teach this test to send ", d.method);
    }
    CHECK_MESSAGE(r.status != 0, d.method, " ", d.path, ": ", r.error);
    CHECK_MESSAGE(!(r.status == 404 && r.body.empty()), d.method, " ", d.path, " is described but no route answers it");
  }
}
