// What a ResultStore throws when its database fails. The message names the operation and the database's reason;
// retriable() says whether the same call may succeed later without anyone repairing anything (the disk or the
// database is full, an I/O error, a lock held too long) or never will (a damaged file, a bug).
#pragma once

#include <stdexcept>
#include <string>

namespace testfleet::aggregator {

class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& message, bool retriable) : std::runtime_error(message), retriable_(retriable) {}
  bool retriable() const { return retriable_; }

 private:
  bool retriable_;
};

}  // namespace testfleet::aggregator
