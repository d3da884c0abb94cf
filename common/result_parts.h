// How a result bigger than one Kafka record travels: as several records ("parts") of the same (run_id, job_id,
// attempt), which the worker writes in the one transaction that commits the job (so all or none of them are read,
// on one partition, since the key is the run id) and the aggregator joins back before it counts the result.
// The worker splits, the aggregator merges: both halves of the rule live here, pure, so they are tested together.
//
// Layout (Result.part / Result.parts): every part carries the result's scalar fields (ids, verdict, exit code,
// usage, times, worker); part 1 also carries its text (output tails, error, notes); the repeated bulk (cases,
// listed ids, tests, artifacts) is spread over the parts in order, and an artifact too big for the room left in a
// part continues in the next one (Artifact.continues).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "testfleet/v1/testfleet.pb.h"

namespace testfleet {

// The smallest record budget a result can be split for: room for the scalar fields, a part of the text and a case.
inline constexpr size_t kMinResultRecordBytes = 64 << 10;

// `whole` as records of at most max_record_bytes each (serialized size; at least kMinResultRecordBytes): itself,
// unchanged, when it fits; otherwise its parts 1..n. Nothing is dropped: cases, listed ids, tests and artifact
// bytes all arrive. Only what could never fit one record is cut, with a visible "testfleet cut" marker and a note:
// text over a share of the budget (a tail, the error, a job name) and a single case or id bigger than a record.
std::vector<v1::Result> splitResult(const v1::Result& whole, size_t max_record_bytes);

// Who made a result's parts (its worker and start time): parts of one (run, job, attempt) merge only with parts of
// the same sender, so two workers that both committed the same attempt cannot mix their parts.
std::string resultPartsSender(const v1::Result& part);

// Why a decoded result's part numbering cannot be right ("" when it can): a whole result has part = parts = 0, a
// part has 1 <= part <= parts.
std::string resultPartProblem(const v1::Result& r);

// The whole result from all the parts splitResult made of it, in any order (a part given twice counts once):
// nullopt while a part is missing, or when they are not all parts of one result (ids, sender, parts).
std::optional<v1::Result> mergeResultParts(const std::vector<v1::Result>& parts);

}  // namespace testfleet
