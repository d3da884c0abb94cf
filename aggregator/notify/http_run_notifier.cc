#include "aggregator/notify/http_run_notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "aggregator/reports/summary.h"
#include "common/clock.h"

namespace testfleet::aggregator {

bool worthRetrying(const HttpResponse& response) {
  return response.status == 0 || response.status >= 500 || response.status == 429;
}

std::chrono::milliseconds retryDelay(std::chrono::milliseconds first_retry, int next_attempt) {
  const int doublings = std::clamp(next_attempt - 2, 0, 20);
  return first_retry * (int64_t{1} << doublings);
}

std::string urlForLog(const std::string& url) {
  const auto scheme = url.find("://");
  const auto path = url.find_first_of("/?#", scheme == std::string::npos ? 0 : scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path) + "/…";
}

HttpRunNotifier::HttpRunNotifier(NotifySettings settings, ResultStore& store, AggregatorMetrics& metrics)
    : settings_(std::move(settings)), store_(store), metrics_(metrics), thread_([this] { loop(); }) {
  spdlog::info("notifications: {} webhook(s){}, GitHub commit statuses {}", settings_.webhooks.size(),
               settings_.webhook_secret.empty() ? " unsigned" : " signed",
               settings_.github_token.empty() ? "off" : "to " + settings_.github_api);
}

HttpRunNotifier::~HttpRunNotifier() {
  stop_ = true;
  wake_.notify_all();
  thread_.join();
  if (!completed_.empty() || !due_.empty()) {
    spdlog::warn("notifications: stopped with {} run(s) and {} delivery(ies) not sent; they are not sent later",
                 completed_.size(), due_.size());
  }
}

void HttpRunNotifier::runCompleted(const std::string& run_id) {
  {
    std::lock_guard lock(mutex_);
    if (completed_.size() >= settings_.max_waiting) {
      spdlog::error("notifications: more than {} completed runs wait to be notified; run {}'s are dropped",
                    settings_.max_waiting, completed_.front());
      metrics_.notificationEnded("any", "dropped");
      completed_.pop_front();
    }
    completed_.push_back(run_id);
  }
  wake_.notify_all();
}

std::vector<HttpRunNotifier::Delivery> HttpRunNotifier::deliveriesFor(const std::string& run_id) {
  std::vector<Delivery> out;
  auto run = store_.run(run_id);
  if (!run) return out;
  const RunNotice notice =
      makeRunNotice(*run, summarise(*run, store_.finalResults(run_id), nowMillis()), settings_.public_url);
  const std::string body = webhookBody(notice, settings_.webhook_format);
  std::vector<std::string> headers = {"User-Agent: testfleet", "X-Testfleet-Event: run.completed"};
  if (!settings_.webhook_secret.empty()) {
    headers.push_back("X-Testfleet-Signature: " + webhookSignature(settings_.webhook_secret, body));
  }
  for (const auto& url : settings_.webhooks) out.push_back({run_id, "webhook", url, body, headers});
  if (settings_.github_token.empty()) return out;
  if (auto status = commitStatus(notice)) {
    std::string api = settings_.github_api;
    while (!api.empty() && api.back() == '/') api.pop_back();
    out.push_back({run_id,
                   "github",
                   api + status->path,
                   status->body,
                   {"User-Agent: testfleet", "Accept: application/vnd.github+json",
                    "Authorization: Bearer " + settings_.github_token}});
  }
  return out;
}

void HttpRunNotifier::attempt(HttpClient& client, Delivery delivery) {
  const HttpResponse response = client.post(delivery.url, delivery.body, "application/json", delivery.headers);
  if (response.status >= 200 && response.status < 300) {
    spdlog::info("run {}: {} notification delivered to {} (attempt {})", delivery.run_id, delivery.target,
                 urlForLog(delivery.url), delivery.attempt);
    metrics_.notificationEnded(delivery.target, "delivered");
    return;
  }
  const std::string what = response.status ? "HTTP " + std::to_string(response.status) : response.error;
  if (!worthRetrying(response) || delivery.attempt >= settings_.max_attempts) {
    spdlog::error("run {}: {} notification to {} gave up after attempt {}: {}", delivery.run_id, delivery.target,
                  urlForLog(delivery.url), delivery.attempt, what);
    metrics_.notificationEnded(delivery.target, "gave_up");
    return;
  }
  const auto delay = retryDelay(settings_.first_retry, ++delivery.attempt);
  spdlog::warn("run {}: {} notification to {} failed ({}); attempt {} in {} ms", delivery.run_id, delivery.target,
               urlForLog(delivery.url), what, delivery.attempt, delay.count());
  std::lock_guard lock(mutex_);
  due_.emplace(Clock::now() + delay, std::move(delivery));
}

void HttpRunNotifier::loop() {
  HttpClient client(settings_.timeout, 1 << 20);
  std::unique_lock lock(mutex_);
  while (!stop_) {
    const bool room = due_.size() < settings_.max_waiting;
    if (!completed_.empty() && room) {
      const std::string run_id = std::move(completed_.front());
      completed_.pop_front();
      lock.unlock();
      std::vector<Delivery> deliveries;
      try {
        deliveries = deliveriesFor(run_id);
      } catch (const std::exception& e) {  // the store failed: this run's notifications are lost, not the thread
        spdlog::error("run {}: notifications not sent, the run could not be read: {}", run_id, e.what());
        metrics_.notificationEnded("any", "gave_up");
      }
      lock.lock();
      for (auto& d : deliveries) due_.emplace(Clock::now(), std::move(d));
      continue;
    }
    if (!due_.empty() && due_.begin()->first <= Clock::now()) {
      Delivery delivery = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      lock.unlock();
      attempt(client, std::move(delivery));
      lock.lock();
      continue;
    }
    if (due_.empty())
      wake_.wait(lock);
    else
      wake_.wait_until(lock, due_.begin()->first);
  }
}

}  // namespace testfleet::aggregator
