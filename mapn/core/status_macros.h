// File: status_macros.h
//
// Early-return helpers for absl::Status and absl::StatusOr, which the Abseil
// on Debian 12 (20220623) does not ship.
//
// Example:
//
//   absl::StatusOr<Video> Open(const std::string& path) {
//     MAPN_RETURN_IF_ERROR(CheckReadable(path));
//     MAPN_ASSIGN_OR_RETURN(Header header, ReadHeader(path));
//     return Video(std::move(header));
//   }
#ifndef MAPN_CORE_STATUS_MACROS_H_
#define MAPN_CORE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MAPN_STATUS_CONCAT_INNER_(a, b) a##b
#define MAPN_STATUS_CONCAT_(a, b) MAPN_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define MAPN_RETURN_IF_ERROR(expr)                                  \
  do {                                                              \
    ::absl::Status mapn_status_ = (expr);                           \
    if (!mapn_status_.ok()) return mapn_status_;                    \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status,
// otherwise moves the value into `lhs` (a declaration or an lvalue).
#define MAPN_ASSIGN_OR_RETURN(lhs, rexpr)                                   \
  MAPN_ASSIGN_OR_RETURN_IMPL_(MAPN_STATUS_CONCAT_(mapn_statusor_, __LINE__), \
                              lhs, rexpr)

#define MAPN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // MAPN_CORE_STATUS_MACROS_H_
