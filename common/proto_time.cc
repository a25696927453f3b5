#include "common/proto_time.h"

namespace ionloop {

google::protobuf::Timestamp MicrosToProtoTime(int64_t micros) {
  google::protobuf::Timestamp ts;
  int64_t seconds = micros / 1'000'000;
  int64_t rest = micros % 1'000'000;
  if (rest < 0) {
    rest += 1'000'000;
    seconds -= 1;
  }
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(rest * 1000));
  return ts;
}

google::protobuf::Timestamp ToProtoTime(absl::Time t) {
  return MicrosToProtoTime(absl::ToUnixMicros(t));
}

absl::Time FromProtoTime(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace ionloop
