// Sends run notifications over HTTP: a POST to every --webhook and, for runs labelled with a GitHub repository and
// commit, a commit status. One background thread sends; runCompleted only queues the run id. A delivery is retried
// with exponential backoff on a transport error (refused, timed out), a 5xx or a 429, and given up on any other
// answer or after the last attempt (logged, counted in testfleet_notifications_total{outcome="gave_up"}).
//
// Not durable: runs waiting to be sent are lost when the aggregator stops or dies (the log says how many on a
// clean stop). Past `max_waiting` completed runs not yet taken up, the oldest one is dropped (logged, counted as
// outcome="dropped").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aggregator/metrics.h"
#include "aggregator/notify/run_notice.h"
#include "aggregator/notify/run_notifier.h"
#include "aggregator/storage/result_store.h"
#include "common/http_client.h"

namespace testfleet::aggregator {

struct NotifySettings {
  std::vector<std::string> webhooks;  // URLs that get a POST per completed run
  WebhookFormat webhook_format = WebhookFormat::kJson;
  std::string webhook_secret;  // signs every webhook body (X-Testfleet-Signature); "" sends no signature
  std::string public_url;      // base of the run links; "" sends none
  std::string github_api = "https://api.github.com";
  std::string github_token;  // "" sends no commit statuses
  int max_attempts = 5;
  std::chrono::milliseconds first_retry = std::chrono::seconds(1);  // doubled after every failed attempt
  std::chrono::milliseconds timeout = std::chrono::seconds(10);     // of one attempt
  size_t max_waiting = 1000;

  bool any() const { return !webhooks.empty() || !github_token.empty(); }
};

// Whether an attempt that got this response is worth another: no response at all, a 5xx, or 429 (slow down).
bool worthRetrying(const HttpResponse& response);
// How long to wait before attempt `next_attempt` (2, 3, …): first_retry, then doubled each time.
std::chrono::milliseconds retryDelay(std::chrono::milliseconds first_retry, int next_attempt);
// A URL without its path and query, for logs: a Slack webhook URL's path is its secret.
std::string urlForLog(const std::string& url);

class HttpRunNotifier : public RunNotifier {
 public:
  // The store and metrics must outlive the notifier.
  HttpRunNotifier(NotifySettings settings, ResultStore& store, AggregatorMetrics& metrics);
  // Stops the thread after the attempt in flight; what still waits is lost (and logged).
  ~HttpRunNotifier() override;
  HttpRunNotifier(const HttpRunNotifier&) = delete;
  HttpRunNotifier& operator=(const HttpRunNotifier&) = delete;

  void runCompleted(const std::string& run_id) override;

 private:
  struct Delivery {
    std::string run_id;
    std::string target;  // "webhook" | "github" (the metric's label)
    std::string url;
    std::string body;
    std::vector<std::string> headers;
    int attempt = 1;
  };
  using Clock = std::chrono::steady_clock;

  void loop();
  std::vector<Delivery> deliveriesFor(const std::string& run_id);
  // Sends one attempt; on a retriable failure before the last attempt, the delivery is queued again.
  void attempt(HttpClient& client, Delivery delivery);

  const NotifySettings settings_;
  ResultStore& store_;
  AggregatorMetrics& metrics_;
  std::mutex mutex_;  // guards completed_ and due_
  std::condition_variable wake_;
  std::deque<std::string> completed_;               // run ids not yet turned into deliveries
  std::multimap<Clock::time_point, Delivery> due_;  // deliveries by the time of their next attempt
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace testfleet::aggregator
