// A small blocking HTTP client over libcurl. One instance per thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace testfleet {

struct HttpResponse {
  long status = 0;  // 0 when no response arrived
  std::string body;
  std::string error;  // transport error (connection refused, timeout), empty otherwise
};

class HttpClient {
 public:
  explicit HttpClient(std::chrono::milliseconds timeout = std::chrono::seconds(10), size_t max_body = 64 << 20);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Every later request carries `Authorization: Bearer <token>` (the aggregator requires it on writes when it
  // has an --api-token-file). The token is never part of an error message.
  void setBearerToken(std::string token);

  HttpResponse get(const std::string& url);
  HttpResponse put(const std::string& url, const std::string& body, const std::string& content_type);
  // headers: whole lines ("X-Name: value"), sent as given and never part of an error message.
  HttpResponse post(const std::string& url, const std::string& body, const std::string& content_type,
                    const std::vector<std::string>& headers = {});
  // Status only, no body.
  HttpResponse head(const std::string& url);
  // Percent-encodes text for a query parameter.
  std::string escape(const std::string& text);

 private:
  struct Upload {
    const char* method;  // "PUT" or "POST"
    const std::string& body;
    const std::string& content_type;
    const std::vector<std::string>& headers;
  };
  HttpResponse perform(const std::string& url, const Upload* upload, bool no_body = false);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace testfleet
