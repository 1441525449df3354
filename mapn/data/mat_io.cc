#include "mapn/data/mat_io.h"

#include <sys/stat.h>

#include <cmath>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mapn/core/atomic_file.h"

extern "C" {
#include <matio.h>
}

namespace mapn {
namespace {

// libmatio reports problems through a global log function that prints to
// stderr; mapn reports them through absl::Status, so the last message is
// kept (per thread) and appended to the error.
thread_local std::string matio_last_message;

void MatioLog(int /*log_level*/, char* message) {
  matio_last_message = message == nullptr ? "" : message;
}

void InstallMatioLog() {
  static std::once_flag once;
  std::call_once(once, [] { Mat_LogInitFunc("mapn", &MatioLog); });
}

std::string MatioDetail() {
  if (matio_last_message.empty()) return "";
  std::string detail = absl::StrCat(" (libmatio: ", matio_last_message, ")");
  matio_last_message.clear();
  return detail;
}

const char* ClassName(matio_classes c, bool logical) {
  if (logical) return "logical";
  switch (c) {
    case MAT_C_CELL:
      return "cell";
    case MAT_C_STRUCT:
      return "struct";
    case MAT_C_OBJECT:
      return "object";
    case MAT_C_CHAR:
      return "char";
    case MAT_C_SPARSE:
      return "sparse";
    case MAT_C_DOUBLE:
      return "double";
    case MAT_C_SINGLE:
      return "single";
    case MAT_C_INT8:
      return "int8";
    case MAT_C_UINT8:
      return "uint8";
    case MAT_C_INT16:
      return "int16";
    case MAT_C_UINT16:
      return "uint16";
    case MAT_C_INT32:
      return "int32";
    case MAT_C_UINT32:
      return "uint32";
    case MAT_C_INT64:
      return "int64";
    case MAT_C_UINT64:
      return "uint64";
    case MAT_C_FUNCTION:
      return "function";
    case MAT_C_OPAQUE:
      return "opaque";
    case MAT_C_EMPTY:
      break;
  }
  return "empty";
}

bool IsNumericClass(matio_classes c) {
  switch (c) {
    case MAT_C_DOUBLE:
    case MAT_C_SINGLE:
    case MAT_C_INT8:
    case MAT_C_UINT8:
    case MAT_C_INT16:
    case MAT_C_UINT16:
    case MAT_C_INT32:
    case MAT_C_UINT32:
    case MAT_C_INT64:
    case MAT_C_UINT64:
      return true;
    default:
      return false;
  }
}

template <typename T>
void AppendAs(const void* data, size_t n, std::vector<double>* out) {
  const T* p = static_cast<const T*>(data);
  for (size_t i = 0; i < n; ++i) out->push_back(static_cast<double>(p[i]));
}

// Appends one Unicode code point as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

struct MatVarDeleter {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using UniqueMatVar = std::unique_ptr<matvar_t, MatVarDeleter>;

}  // namespace

struct MatFile::Handle {
  mat_t* mat = nullptr;
  ~Handle() {
    if (mat != nullptr) Mat_Close(mat);
  }
};

MatFile::MatFile(std::string path, std::unique_ptr<Handle> handle,
                 std::vector<std::string> names)
    : path_(std::move(path)),
      handle_(std::move(handle)),
      names_(std::move(names)) {}
MatFile::MatFile(MatFile&&) noexcept = default;
MatFile& MatFile::operator=(MatFile&&) noexcept = default;
MatFile::~MatFile() = default;

absl::StatusOr<MatFile> MatFile::Open(const std::string& path) {
  InstallMatioLog();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("MAT file '", path, "' not found"));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is a directory, not a MAT file"));
  }
  auto handle = std::make_unique<Handle>();
  handle->mat = Mat_Open(path.c_str(), MAT_ACC_RDONLY);
  if (handle->mat == nullptr) {
    return absl::DataLossError(
        absl::StrCat("'", path, "' is not a readable MAT file", MatioDetail()));
  }
  std::vector<std::string> names;
  while (true) {
    UniqueMatVar info(Mat_VarReadNextInfo(handle->mat));
    if (info == nullptr) break;
    if (info->name != nullptr) names.emplace_back(info->name);
  }
  matio_last_message.clear();
  return MatFile(path, std::move(handle), std::move(names));
}

bool MatFile::Has(const std::string& name) const {
  for (const std::string& n : names_) {
    if (n == name) return true;
  }
  return false;
}

absl::StatusOr<MatArray> MatFile::ReadNumeric(const std::string& name) const {
  const std::string where =
      absl::StrCat("variable '", name, "' of MAT file '", path_, "'");
  if (!Has(name)) return absl::NotFoundError(absl::StrCat("no ", where));
  UniqueMatVar var(Mat_VarRead(handle_->mat, name.c_str()));
  if (var == nullptr) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", where, MatioDetail()));
  }
  const bool logical = var->isLogical != 0;
  if (!IsNumericClass(var->class_type) || var->isComplex) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, " has class ", ClassName(var->class_type, logical),
                     var->isComplex ? " (complex)" : "",
                     "; a real numeric array is needed"));
  }
  MatArray array;
  array.class_name = ClassName(var->class_type, logical);
  size_t numel = 1;
  for (int d = 0; d < var->rank; ++d) {
    array.dims.push_back(var->dims[d]);
    numel *= var->dims[d];
  }
  if (numel == 0) return array;
  const size_t elem = Mat_SizeOf(var->data_type);
  if (var->data == nullptr || elem == 0 || var->nbytes < numel * elem) {
    return absl::DataLossError(
        absl::StrCat(where, ": ", numel, " elements declared but ", var->nbytes,
                     " bytes of data read", MatioDetail()));
  }
  array.values.reserve(numel);
  switch (var->data_type) {
    case MAT_T_DOUBLE:
      AppendAs<double>(var->data, numel, &array.values);
      break;
    case MAT_T_SINGLE:
      AppendAs<float>(var->data, numel, &array.values);
      break;
    case MAT_T_INT8:
      AppendAs<int8_t>(var->data, numel, &array.values);
      break;
    case MAT_T_UINT8:
      AppendAs<uint8_t>(var->data, numel, &array.values);
      break;
    case MAT_T_INT16:
      AppendAs<int16_t>(var->data, numel, &array.values);
      break;
    case MAT_T_UINT16:
      AppendAs<uint16_t>(var->data, numel, &array.values);
      break;
    case MAT_T_INT32:
      AppendAs<int32_t>(var->data, numel, &array.values);
      break;
    case MAT_T_UINT32:
      AppendAs<uint32_t>(var->data, numel, &array.values);
      break;
    case MAT_T_INT64:
      AppendAs<int64_t>(var->data, numel, &array.values);
      break;
    case MAT_T_UINT64:
      AppendAs<uint64_t>(var->data, numel, &array.values);
      break;
    default:
      return absl::DataLossError(absl::StrCat(where, " holds data of MAT type ",
                                              static_cast<int>(var->data_type),
                                              ", which is not numeric"));
  }
  return array;
}

absl::StatusOr<std::string> MatFile::ReadString(const std::string& name) const {
  const std::string where =
      absl::StrCat("variable '", name, "' of MAT file '", path_, "'");
  if (!Has(name)) return absl::NotFoundError(absl::StrCat("no ", where));
  UniqueMatVar var(Mat_VarRead(handle_->mat, name.c_str()));
  if (var == nullptr) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", where, MatioDetail()));
  }
  if (var->class_type != MAT_C_CHAR) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " has class ", ClassName(var->class_type, var->isLogical != 0),
        "; a char array is needed"));
  }
  size_t rows = var->rank > 0 ? var->dims[0] : 0;
  size_t cols = 1;
  for (int d = 1; d < var->rank; ++d) cols *= var->dims[d];
  const size_t numel = rows * cols;
  std::string text;
  if (numel == 0) return text;
  const size_t elem = Mat_SizeOf(var->data_type);
  if (var->data == nullptr || elem == 0 || var->nbytes < numel * elem) {
    return absl::DataLossError(absl::StrCat(
        where, ": char data is shorter than its dimensions", MatioDetail()));
  }
  if (var->data_type == MAT_T_UTF8 && var->nbytes > numel) {
    // A UTF-8 char array counts characters; its bytes are the text.
    return std::string(static_cast<const char*>(var->data), var->nbytes);
  }
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < cols; ++c) {
      const size_t i = r + c * rows;
      uint32_t cp = 0;
      switch (elem) {
        case 1:
          cp = static_cast<const uint8_t*>(var->data)[i];
          break;
        case 2:
          cp = static_cast<const uint16_t*>(var->data)[i];
          break;
        case 4:
          cp = static_cast<const uint32_t*>(var->data)[i];
          break;
        default:
          return absl::DataLossError(
              absl::StrCat(where, ": unsupported char storage"));
      }
      AppendUtf8(cp, &text);
    }
  }
  return text;
}

struct MatWriter::State {
  std::string path;
  std::unique_ptr<AtomicFile> file;
  mat_t* mat = nullptr;
  bool compress = true;
  ~State() {
    if (mat != nullptr) Mat_Close(mat);
  }
};

MatWriter::MatWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
MatWriter::MatWriter(MatWriter&&) noexcept = default;
MatWriter& MatWriter::operator=(MatWriter&&) noexcept = default;
MatWriter::~MatWriter() = default;

absl::StatusOr<MatWriter> MatWriter::Create(const std::string& path,
                                            bool compress) {
  InstallMatioLog();
  auto state = std::make_unique<State>();
  state->path = path;
  state->compress = compress;
  absl::StatusOr<AtomicFile> file = AtomicFile::Create(path);
  if (!file.ok()) return file.status();
  state->file = std::make_unique<AtomicFile>(*std::move(file));
  static constexpr char kHeader[] =
      "MATLAB 5.0 MAT-file, written by mapn with libmatio";
  state->mat =
      Mat_CreateVer(state->file->temp_path().c_str(), kHeader, MAT_FT_MAT5);
  if (state->mat == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create MAT file '", path, "'", MatioDetail()));
  }
  return MatWriter(std::move(state));
}

absl::Status MatWriter::Write(const std::string& name, int class_type,
                              int data_type, const std::vector<size_t>& dims,
                              const void* data, size_t count, int flags) {
  if (state_ == nullptr || state_->mat == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("MAT file is closed; cannot write '", name, "'"));
  }
  size_t numel = 1;
  for (size_t d : dims) numel *= d;
  if (dims.size() < 2 || numel != count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "variable '", name, "' for '", state_->path, "': ", count,
        " values do not fill ", dims.size(), " dimensions of ", numel,
        " elements (MAT arrays need at least 2 dimensions)"));
  }
  std::vector<size_t> mutable_dims = dims;
  matvar_t* var =
      Mat_VarCreate(name.c_str(), static_cast<matio_classes>(class_type),
                    static_cast<matio_types>(data_type),
                    static_cast<int>(dims.size()), mutable_dims.data(),
                    const_cast<void*>(data), flags | MAT_F_DONT_COPY_DATA);
  if (var == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create variable '", name,
                                            "' for '", state_->path, "'",
                                            MatioDetail()));
  }
  UniqueMatVar owned(var);
  const int ret = Mat_VarWrite(
      state_->mat, var,
      state_->compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE);
  if (ret != 0) {
    return absl::InternalError(absl::StrCat("cannot write variable '", name,
                                            "' to '", state_->path, "'",
                                            MatioDetail()));
  }
  return absl::OkStatus();
}

absl::Status MatWriter::WriteDouble(const std::string& name,
                                    const std::vector<size_t>& dims,
                                    const std::vector<double>& values,
                                    MatStorage storage) {
  if (storage == MatStorage::kDouble) {
    return Write(name, MAT_C_DOUBLE, MAT_T_DOUBLE, dims, values.data(),
                 values.size(), 0);
  }
  const double max = storage == MatStorage::kUint8 ? 255.0 : 65535.0;
  for (double v : values) {
    if (!(v >= 0 && v <= max) || v != std::floor(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat("variable '", name, "' for '", state_->path, "': value ",
                       v, " cannot be stored as ",
                       storage == MatStorage::kUint8 ? "uint8" : "uint16"));
    }
  }
  if (storage == MatStorage::kUint8) {
    std::vector<uint8_t> packed(values.begin(), values.end());
    return Write(name, MAT_C_DOUBLE, MAT_T_UINT8, dims, packed.data(),
                 packed.size(), 0);
  }
  std::vector<uint16_t> packed(values.begin(), values.end());
  return Write(name, MAT_C_DOUBLE, MAT_T_UINT16, dims, packed.data(),
               packed.size(), 0);
}

absl::Status MatWriter::WriteLogical(const std::string& name,
                                     const std::vector<size_t>& dims,
                                     const std::vector<uint8_t>& values) {
  std::vector<uint8_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) bits[i] = values[i] != 0;
  return Write(name, MAT_C_UINT8, MAT_T_UINT8, dims, bits.data(), bits.size(),
               MAT_F_LOGICAL);
}

absl::Status MatWriter::WriteUint8(const std::string& name,
                                   const std::vector<size_t>& dims,
                                   const std::vector<uint8_t>& values) {
  return Write(name, MAT_C_UINT8, MAT_T_UINT8, dims, values.data(),
               values.size(), 0);
}

absl::Status MatWriter::WriteInt32(const std::string& name,
                                   const std::vector<size_t>& dims,
                                   const std::vector<int32_t>& values) {
  return Write(name, MAT_C_INT32, MAT_T_INT32, dims, values.data(),
               values.size(), 0);
}

absl::Status MatWriter::WriteString(const std::string& name,
                                    const std::string& text) {
  return Write(name, MAT_C_CHAR, MAT_T_UTF8, {1, text.size()}, text.data(),
               text.size(), 0);
}

absl::Status MatWriter::Close() {
  if (state_ == nullptr || state_->mat == nullptr) {
    return absl::FailedPreconditionError("MAT file is already closed");
  }
  const int ret = Mat_Close(state_->mat);
  state_->mat = nullptr;
  if (ret != 0) {
    return absl::InternalError(absl::StrCat("cannot close MAT file '",
                                            state_->path, "'", MatioDetail()));
  }
  return state_->file->Commit();
}

}  // namespace mapn
