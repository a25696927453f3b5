// RETURN_IF_ERROR / ASSIGN_OR_RETURN: Debian's Abseil 20220623 ships neither.
#ifndef IONLOOP_COMMON_STATUS_MACROS_H_
#define IONLOOP_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define IONLOOP_CONCAT_INNER_(a, b) a##b
#define IONLOOP_CONCAT_(a, b) IONLOOP_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    const ::absl::Status _ionloop_status = (expr);     \
    if (!_ionloop_status.ok()) return _ionloop_status; \
  } while (false)

// ASSIGN_OR_RETURN(auto x, MakeX()); declares/assigns `lhs` or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  IONLOOP_ASSIGN_OR_RETURN_IMPL_(IONLOOP_CONCAT_(_ionloop_statusor_, __LINE__), lhs, expr)

#define IONLOOP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return statusor.status();             \
  lhs = std::move(statusor).value()

#endif  // IONLOOP_COMMON_STATUS_MACROS_H_
