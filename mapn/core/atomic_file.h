// File: atomic_file.h
//
// Writes a user's output file so that it is either complete or absent: data
// goes to a temporary file in the same directory, which is renamed over the
// target only when everything was written. A crash, an error or an early
// return leaves the target untouched and removes the temporary file.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(AtomicFile out, AtomicFile::Create("poses.json"));
//   // ... write to out.temp_path() with any library ...
//   MAPN_RETURN_IF_ERROR(out.Commit());
//
//   // Or for an in-memory buffer:
//   MAPN_RETURN_IF_ERROR(WriteFileAtomically("poses.json", json_text));
#ifndef MAPN_CORE_ATOMIC_FILE_H_
#define MAPN_CORE_ATOMIC_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn {

class AtomicFile {
 public:
  // Checks that the target's directory exists and is writable, and reserves a
  // unique temporary path beside the target. `target` may not be a directory.
  static absl::StatusOr<AtomicFile> Create(std::string target);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  // Removes the temporary file unless Commit() succeeded.
  ~AtomicFile();

  const std::string& target_path() const { return target_; }
  // Where to write. The file exists (empty) after Create().
  const std::string& temp_path() const { return temp_; }

  // fsyncs the temporary file and renames it over the target.
  absl::Status Commit();

 private:
  AtomicFile(std::string target, std::string temp)
      : target_(std::move(target)), temp_(std::move(temp)) {}
  void Discard();

  std::string target_;
  std::string temp_;
  bool committed_ = false;
};

// Writes `contents` to `path` through an AtomicFile.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view contents);

// Whether `path` could be written by an AtomicFile: its directory exists and
// is writable and it is not a directory. Nothing is left behind. Lets a
// command refuse an unwritable output before hours of work, not after.
absl::Status CheckWritable(const std::string& path);

// Reads a whole file; NotFound / PermissionDenied errors name the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace mapn

#endif  // MAPN_CORE_ATOMIC_FILE_H_
