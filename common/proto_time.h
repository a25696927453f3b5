// absl::Time <-> google.protobuf.Timestamp.
#ifndef IONLOOP_COMMON_PROTO_TIME_H_
#define IONLOOP_COMMON_PROTO_TIME_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>

#include "absl/time/time.h"

namespace ionloop {

google::protobuf::Timestamp ToProtoTime(absl::Time t);
absl::Time FromProtoTime(const google::protobuf::Timestamp& ts);

// From microseconds since the Unix epoch: how the store keeps time.
google::protobuf::Timestamp MicrosToProtoTime(int64_t micros);

}  // namespace ionloop

#endif  // IONLOOP_COMMON_PROTO_TIME_H_
