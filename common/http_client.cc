#include "common/http_client.h"

#include <curl/curl.h>

namespace testfleet {
namespace {
struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

struct Sink {
  std::string* body;
  size_t max;
  bool overflow = false;
};

size_t write(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->body->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;  // makes curl fail the transfer
  }
  sink->body->append(data, bytes);
  return bytes;
}
}  // namespace

struct HttpClient::Impl {
  std::unique_ptr<CURL, CurlDeleter> handle;
  std::chrono::milliseconds timeout;
  size_t max_body;
  std::string bearer_token;  // empty: no Authorization header
};

HttpClient::HttpClient(std::chrono::milliseconds timeout, size_t max_body) : impl_(std::make_unique<Impl>()) {
  static const bool initialised = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)initialised;
  impl_->handle.reset(curl_easy_init());
  impl_->timeout = timeout;
  impl_->max_body = max_body;
}

HttpClient::~HttpClient() = default;

void HttpClient::setBearerToken(std::string token) { impl_->bearer_token = std::move(token); }

HttpResponse HttpClient::get(const std::string& url) { return perform(url, nullptr); }

HttpResponse HttpClient::put(const std::string& url, const std::string& body, const std::string& content_type) {
  const std::vector<std::string> no_headers;
  const Upload upload{"PUT", body, content_type, no_headers};
  return perform(url, &upload);
}

HttpResponse HttpClient::post(const std::string& url, const std::string& body, const std::string& content_type,
                              const std::vector<std::string>& headers) {
  std::vector<std::string> lines = headers;
  lines.emplace_back("Expect:");  // the body at once, without waiting for a 100 Continue small receivers never send
  const Upload upload{"POST", body, content_type, lines};
  return perform(url, &upload);
}

HttpResponse HttpClient::head(const std::string& url) { return perform(url, nullptr, true); }

HttpResponse HttpClient::perform(const std::string& url, const Upload* upload, bool no_body) {
  HttpResponse out;
  CURL* c = impl_->handle.get();
  if (!c) {
    out.error = "curl could not be initialised";
    return out;
  }
  Sink sink{&out.body, impl_->max_body};
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  auto addHeader = [&](const std::string& line) {
    if (curl_slist* grown = curl_slist_append(headers.get(), line.c_str())) {
      (void)headers.release();  // grown is the same list (or its new head)
      headers.reset(grown);
    }
  };
  if (no_body) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (upload) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, upload->method);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, upload->body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(upload->body.size()));
    addHeader("Content-Type: " + upload->content_type);
    for (const auto& line : upload->headers) addHeader(line);
  }
  if (!impl_->bearer_token.empty()) addHeader("Authorization: Bearer " + impl_->bearer_token);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    out.error =
        sink.overflow ? "response larger than " + std::to_string(impl_->max_body) + " bytes" : curl_easy_strerror(rc);
    return out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

std::string HttpClient::escape(const std::string& text) {
  char* e = curl_easy_escape(impl_->handle.get(), text.data(), static_cast<int>(text.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

}  // namespace testfleet
