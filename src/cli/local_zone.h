// The system's local time zone (TZ, /etc/localtime), for --begin's dates and times of day.
#pragma once
#include "core/begin_time.h"

namespace zs::cli {

class SystemTimeZone : public TimeZone {
 public:
  CivilTime civil(std::int64_t epoch_s) const override;
  std::int64_t epoch_s(const CivilTime& t) const override;
};

}  // namespace zs::cli
