// Run ids. A run id names one submission, ever: it keys the run's manifest and results, and appears in the
// aggregator's URLs.
#pragma once

#include <string_view>

namespace testfleet {

// What a run id may be, as error messages say it.
inline constexpr std::string_view kRunIdRule = "letters, digits, '-', '_' and '.' only, at most 128 characters";

// Whether the id follows kRunIdRule (and is not empty).
bool isValidRunId(std::string_view id);

}  // namespace testfleet
