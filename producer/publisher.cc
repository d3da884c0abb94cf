#include "producer/publisher.h"

#include <chrono>

namespace testfleet::producer {

void publish(const suite::Plan& plan, kafka::Producer& producer, const kafka::Topics& topics) {
  producer.send({topics.runs, plan.manifest.run_id(), plan.manifest.SerializeAsString()});
  producer.flush(std::chrono::seconds(30));
  for (const auto& job : plan.jobs) {
    // Keyed by job id: jobs of one run spread over every partition.
    producer.send({topics.jobs, job.job_id(), job.SerializeAsString()});
  }
  producer.flush(std::chrono::seconds(60));
}

}  // namespace testfleet::producer
