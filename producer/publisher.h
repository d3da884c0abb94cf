// Publishes a plan: the manifest first (so the aggregator knows how many jobs to expect), then the jobs.
#pragma once

#include "common/kafka/kafka.h"
#include "common/kafka/topics.h"
#include "suite/planner.h"

namespace testfleet::producer {

// Returns when the broker acknowledged every record; throws kafka::Error otherwise.
void publish(const suite::Plan& plan, kafka::Producer& producer, const kafka::Topics& topics);

}  // namespace testfleet::producer
