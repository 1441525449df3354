// File: mat_io.h
//
// Reads and writes MATLAB MAT files (the label format of Penn Action and
// JHMDB) through libmatio. The reader hides the storage tricks MATLAB plays
// and that real label files contain: doubles stored as uint8/uint16,
// logicals stored as double, int32 scalars, and zlib streams without a
// proper end (libmatio inflates in streaming mode, which copes with them).
// Every numeric variable comes back as doubles; errors name the file and the
// variable.
//
// Example:
//
//   MAPN_ASSIGN_OR_RETURN(MatFile mat, MatFile::Open("labels/0001.mat"));
//   MAPN_ASSIGN_OR_RETURN(MatArray x, mat.ReadNumeric("x"));   // T x 13
//   double x_of_joint_3_in_frame_0 = x.at(0, 3);
//   MAPN_ASSIGN_OR_RETURN(std::string action, mat.ReadString("action"));
//
//   MAPN_ASSIGN_OR_RETURN(MatWriter out, MatWriter::Create("labels/0001.mat"));
//   MAPN_RETURN_IF_ERROR(out.WriteDouble("x", {T, 13}, x_values));
//   MAPN_RETURN_IF_ERROR(out.Close());   // the file appears atomically
#ifndef MAPN_DATA_MAT_IO_H_
#define MAPN_DATA_MAT_IO_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn {

// A numeric MAT variable converted to double, in MATLAB's column-major order.
struct MatArray {
  std::vector<size_t> dims;
  std::vector<double> values;
  // The MATLAB class the file declares ("double", "logical", "int32", ...).
  std::string class_name;

  size_t numel() const { return values.size(); }
  size_t rows() const { return dims.empty() ? 0 : dims[0]; }
  size_t cols() const { return dims.size() < 2 ? 1 : dims[1]; }
  // Element (r, c) of a 2-D array; (i, j, k) of a 3-D one.
  double at(size_t r, size_t c) const { return values[r + c * rows()]; }
  double at(size_t i, size_t j, size_t k) const {
    return values[i + dims[0] * (j + dims[1] * k)];
  }
};

class MatFile {
 public:
  // Opens a MAT file (v4, v5 or v7.3) for reading and lists its variables.
  static absl::StatusOr<MatFile> Open(const std::string& path);

  MatFile(MatFile&&) noexcept;
  MatFile& operator=(MatFile&&) noexcept;
  ~MatFile();

  const std::string& path() const { return path_; }
  const std::vector<std::string>& variable_names() const { return names_; }
  bool Has(const std::string& name) const;

  // A real numeric or logical variable of any storage type, as doubles.
  // NotFound when absent; InvalidArgument for char, cell, struct, sparse or
  // complex variables; DataLoss when the data cannot be read.
  absl::StatusOr<MatArray> ReadNumeric(const std::string& name) const;
  // A char variable as UTF-8 (rows concatenated).
  absl::StatusOr<std::string> ReadString(const std::string& name) const;

 private:
  struct Handle;
  MatFile(std::string path, std::unique_ptr<Handle> handle,
          std::vector<std::string> names);
  std::string path_;
  std::unique_ptr<Handle> handle_;
  std::vector<std::string> names_;
};

// How a double variable is stored on disk: MATLAB writes whole numbers in
// the smallest integer type that holds them; kUint8/kUint16 reproduce that
// (values must then be whole numbers in range).
enum class MatStorage : uint8_t { kDouble, kUint8, kUint16 };

class MatWriter {
 public:
  // Creates a MAT v5 file, written to a temporary file and renamed by
  // Close(). The header text is fixed so that equal contents give equal
  // bytes (libmatio's default header holds the creation time).
  static absl::StatusOr<MatWriter> Create(const std::string& path,
                                          bool compress = true);

  MatWriter(MatWriter&&) noexcept;
  MatWriter& operator=(MatWriter&&) noexcept;
  ~MatWriter();

  // `values` in column-major order, product(dims) of them.
  absl::Status WriteDouble(const std::string& name,
                           const std::vector<size_t>& dims,
                           const std::vector<double>& values,
                           MatStorage storage = MatStorage::kDouble);
  absl::Status WriteLogical(const std::string& name,
                            const std::vector<size_t>& dims,
                            const std::vector<uint8_t>& values);
  absl::Status WriteUint8(const std::string& name,
                          const std::vector<size_t>& dims,
                          const std::vector<uint8_t>& values);
  absl::Status WriteInt32(const std::string& name,
                          const std::vector<size_t>& dims,
                          const std::vector<int32_t>& values);
  // A 1 x N char row.
  absl::Status WriteString(const std::string& name, const std::string& text);

  // Closes the file and renames it into place.
  absl::Status Close();

 private:
  struct State;
  explicit MatWriter(std::unique_ptr<State> state);
  absl::Status Write(const std::string& name, int class_type, int data_type,
                     const std::vector<size_t>& dims, const void* data,
                     size_t count, int flags);
  std::unique_ptr<State> state_;
};

}  // namespace mapn

#endif  // MAPN_DATA_MAT_IO_H_
