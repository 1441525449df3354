#include "mapn/model/state_dict_file.h"

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "mapn/core/atomic_file.h"
#include "mapn/core/status_macros.h"

namespace mapn::model {
namespace {

// ---------------------------------------------------------------------------
// Zip (stored entries, optional zip64), as PyTorch's writer produces.

uint32_t Crc32(const char* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc = table[(crc ^ static_cast<uint8_t>(data[i])) & 0xFF] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

struct ZipEntry {
  uint64_t data_offset = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
};

class ZipReader {
 public:
  ZipReader(const std::string& bytes, const std::string& path)
      : bytes_(bytes), path_(path) {}

  absl::Status Open() {
    // End of central directory: 22 bytes plus a comment of up to 64 KiB.
    if (bytes_.size() < 22) return Error("too short to be a zip archive");
    const size_t lowest = bytes_.size() > 65557 ? bytes_.size() - 65557 : 0;
    std::optional<size_t> eocd;
    for (size_t pos = bytes_.size() - 22 + 1; pos-- > lowest;) {
      if (U32(pos) == 0x06054b50u) {
        eocd = pos;
        break;
      }
    }
    if (!eocd) {
      return Error(
          "is not a zip archive: torch.save files of PyTorch < 1.6 (the "
          "legacy format) are not supported; re-save with a newer PyTorch");
    }
    uint64_t count = U16(*eocd + 10);
    uint64_t cd_offset = U32(*eocd + 16);
    if (count == 0xFFFF || cd_offset == 0xFFFFFFFFu) {
      // Zip64: the locator sits just before the end record.
      if (*eocd < 20 || U32(*eocd - 20) != 0x07064b50u) {
        return Error("zip64 end-of-directory locator missing");
      }
      const uint64_t record = U64(*eocd - 20 + 8);
      if (!InRange(record, 56) || U32(record) != 0x06064b50u) {
        return Error("zip64 end-of-directory record missing");
      }
      count = U64(record + 32);
      cd_offset = U64(record + 48);
    }
    uint64_t pos = cd_offset;
    for (uint64_t i = 0; i < count; ++i) {
      if (!InRange(pos, 46) || U32(pos) != 0x02014b50u) {
        return Error(
            absl::StrCat("central directory entry ", i, " is corrupt"));
      }
      const uint16_t method = U16(pos + 10);
      const uint32_t crc = U32(pos + 16);
      uint64_t compressed = U32(pos + 20);
      uint64_t size = U32(pos + 24);
      const uint16_t name_len = U16(pos + 28);
      const uint16_t extra_len = U16(pos + 30);
      const uint16_t comment_len = U16(pos + 32);
      uint64_t local = U32(pos + 42);
      if (!InRange(pos + 46, uint64_t{name_len} + extra_len)) {
        return Error("central directory entry runs past the end");
      }
      const std::string name = bytes_.substr(pos + 46, name_len);
      // Zip64 extra field: the 64-bit values of the fields that were maxed.
      uint64_t extra = pos + 46 + name_len;
      const uint64_t extra_end = extra + extra_len;
      while (extra + 4 <= extra_end) {
        const uint16_t id = U16(extra);
        const uint16_t len = U16(extra + 2);
        uint64_t field = extra + 4;
        if (id == 0x0001) {
          if (size == 0xFFFFFFFFu && field + 8 <= extra_end) {
            size = U64(field);
            field += 8;
          }
          if (compressed == 0xFFFFFFFFu && field + 8 <= extra_end) {
            compressed = U64(field);
            field += 8;
          }
          if (local == 0xFFFFFFFFu && field + 8 <= extra_end) {
            local = U64(field);
          }
        }
        extra += 4 + uint64_t{len};
      }
      if (method != 0) {
        return Error(absl::StrCat("entry '", name, "' is compressed (method ",
                                  method,
                                  "); torch.save writes stored entries"));
      }
      if (!InRange(local, 30) || U32(local) != 0x04034b50u) {
        return Error(absl::StrCat("local header of '", name, "' is corrupt"));
      }
      const uint64_t data =
          local + 30 + uint64_t{U16(local + 26)} + U16(local + 28);
      if (compressed != size || !InRange(data, size)) {
        return Error(absl::StrCat("entry '", name, "' runs past the end"));
      }
      entries_[name] = ZipEntry{data, size, crc};
      if (first_name_.empty()) first_name_ = name;
      pos += 46 + uint64_t{name_len} + extra_len + comment_len;
    }
    if (entries_.empty()) return Error("zip archive has no entries");
    return absl::OkStatus();
  }

  // The archive's top folder ("archive" or the file's stem in PyTorch 2).
  std::string Prefix() const {
    const size_t slash = first_name_.find('/');
    return slash == std::string::npos ? "" : first_name_.substr(0, slash + 1);
  }

  absl::StatusOr<std::string> Read(const std::string& name) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) {
      return Error(absl::StrCat("has no entry '", name, "'"));
    }
    const ZipEntry& e = it->second;
    const char* data = bytes_.data() + e.data_offset;
    if (Crc32(data, e.size) != e.crc) {
      return Error(absl::StrCat("entry '", name, "' fails its CRC check"));
    }
    return std::string(data, e.size);
  }

 private:
  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("torch file '", path_, "' ", what));
  }
  bool InRange(uint64_t pos, uint64_t len) const {
    return pos <= bytes_.size() && len <= bytes_.size() - pos;
  }
  uint64_t Le(uint64_t pos, int n) const {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<uint8_t>(bytes_[pos + i]);
    }
    return v;
  }
  uint16_t U16(uint64_t pos) const {
    return InRange(pos, 2) ? static_cast<uint16_t>(Le(pos, 2)) : 0;
  }
  uint32_t U32(uint64_t pos) const {
    return InRange(pos, 4) ? static_cast<uint32_t>(Le(pos, 4)) : 0;
  }
  uint64_t U64(uint64_t pos) const { return InRange(pos, 8) ? Le(pos, 8) : 0; }

  const std::string& bytes_;
  const std::string& path_;
  std::map<std::string, ZipEntry> entries_;
  std::string first_name_;
};

// ---------------------------------------------------------------------------
// Pickle: the subset of protocol 2 (plus FRAME/MEMOIZE of protocol 4) that
// torch.save emits for state dicts.

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kTuple,
    kList,
    kDict,
    kGlobal,
    kStorage,
    kTensor,
  };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;  // string; "module.name" of a global; storage key
  std::vector<ValuePtr> items;                         // tuple, list
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // dict
  at::ScalarType dtype = at::kFloat;                   // storage
  at::Tensor tensor;                                   // storage, tensor
};

ValuePtr Make(Value::Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

std::optional<at::ScalarType> StorageType(const std::string& global) {
  static const std::map<std::string, at::ScalarType> types = {
      {"torch.FloatStorage", at::kFloat},
      {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},
      {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},
      {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},
      {"torch.BoolStorage", at::kBool},
  };
  const auto it = types.find(global);
  if (it == types.end()) return std::nullopt;
  return it->second;
}

class Unpickler {
 public:
  Unpickler(const std::string& pickle, const ZipReader& zip,
            const std::string& path)
      : p_(pickle), zip_(zip), path_(path) {}

  absl::StatusOr<ValuePtr> Run() {
    while (pos_ < p_.size()) {
      const size_t at = pos_;
      const uint8_t op = static_cast<uint8_t>(p_[pos_++]);
      absl::Status status = Step(op);
      if (!status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("torch file '", path_, "': pickle opcode 0x",
                         absl::Hex(op, absl::kZeroPad2), " at byte ", at, ": ",
                         status.message()));
      }
      if (done_) {
        if (stack_.size() != 1) return Fail("stack not empty at STOP");
        return stack_.back();
      }
    }
    return Fail("pickle ends without STOP");
  }

 private:
  absl::Status Fail(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("torch file '", path_, "': ", what));
  }
  static absl::Status Err(const std::string& what) {
    return absl::InvalidArgumentError(what);
  }

  absl::StatusOr<uint64_t> ReadLe(int n) {
    if (pos_ + n > p_.size()) return Err("truncated");
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<uint8_t>(p_[pos_ + i]);
    }
    pos_ += n;
    return v;
  }
  absl::StatusOr<std::string> ReadBytes(uint64_t n) {
    if (n > p_.size() - pos_) return Err("truncated string");
    std::string s = p_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  absl::StatusOr<std::string> ReadLine() {
    const size_t end = p_.find('\n', pos_);
    if (end == std::string::npos) return Err("unterminated line");
    std::string s = p_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  absl::StatusOr<ValuePtr> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) {
      return Err("stack underflow");
    }
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  // Items above the topmost mark, which is removed.
  absl::StatusOr<std::vector<ValuePtr>> PopMark() {
    if (marks_.empty()) return Err("no MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }
  absl::StatusOr<ValuePtr> Top() {
    if (stack_.empty()) return Err("stack underflow");
    return stack_.back();
  }
  void Push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr Int(int64_t i) {
    ValuePtr v = Make(Value::Kind::kInt);
    v->integer = i;
    return v;
  }
  ValuePtr Str(std::string s) {
    ValuePtr v = Make(Value::Kind::kString);
    v->text = std::move(s);
    return v;
  }
  ValuePtr Tuple(std::vector<ValuePtr> items) {
    ValuePtr v = Make(Value::Kind::kTuple);
    v->items = std::move(items);
    return v;
  }

  absl::Status SetItems(const ValuePtr& dict,
                        const std::vector<ValuePtr>& items) {
    if (dict->kind != Value::Kind::kDict)
      return Err("SETITEM(S) on a non-dict");
    if (items.size() % 2 != 0) return Err("odd number of dict items");
    for (size_t i = 0; i < items.size(); i += 2) {
      dict->entries.emplace_back(items[i], items[i + 1]);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<int64_t>> Ints(const ValuePtr& tuple,
                                            const char* what) {
    if (tuple->kind != Value::Kind::kTuple) {
      return Err(absl::StrCat(what, " is not a tuple"));
    }
    std::vector<int64_t> out;
    for (const ValuePtr& item : tuple->items) {
      if (item->kind != Value::Kind::kInt) {
        return Err(absl::StrCat(what, " holds a non-integer"));
      }
      out.push_back(item->integer);
    }
    return out;
  }

  // storage (from BINPERSID), offset, size, stride, requires_grad, hooks.
  absl::StatusOr<ValuePtr> RebuildTensor(const std::vector<ValuePtr>& args) {
    if (args.size() < 4 || args[0]->kind != Value::Kind::kStorage ||
        args[1]->kind != Value::Kind::kInt) {
      return Err("_rebuild_tensor_v2 with unexpected arguments");
    }
    MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> size, Ints(args[2], "size"));
    MAPN_ASSIGN_OR_RETURN(std::vector<int64_t> stride, Ints(args[3], "stride"));
    if (size.size() != stride.size()) return Err("size and stride differ");
    const at::Tensor& storage = args[0]->tensor;
    const int64_t offset = args[1]->integer;
    // The largest element the view reaches must lie inside the storage.
    int64_t last = offset;
    bool empty = false;
    for (size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0 || stride[d] < 0) return Err("negative size or stride");
      if (size[d] == 0) empty = true;
      last += (size[d] - 1) * stride[d];
    }
    if (offset < 0 || (!empty && last >= storage.numel())) {
      return Err(absl::StrCat("tensor view reaches element ", last,
                              " of a storage of ", storage.numel()));
    }
    ValuePtr v = Make(Value::Kind::kTensor);
    v->tensor = empty ? at::empty(size, storage.options())
                      : storage.as_strided(size, stride, offset).contiguous();
    return v;
  }

  absl::StatusOr<ValuePtr> Reduce(const ValuePtr& callable,
                                  const ValuePtr& args) {
    if (callable->kind != Value::Kind::kGlobal ||
        args->kind != Value::Kind::kTuple) {
      return Err("REDUCE of a non-global");
    }
    const std::string& name = callable->text;
    if (name == "collections.OrderedDict") return Make(Value::Kind::kDict);
    if (name == "torch._utils._rebuild_tensor_v2") {
      return RebuildTensor(args->items);
    }
    if (name == "torch._utils._rebuild_parameter") {
      if (args->items.empty() || args->items[0]->kind != Value::Kind::kTensor) {
        return Err("_rebuild_parameter without a tensor");
      }
      return args->items[0];
    }
    return Err(absl::StrCat("unsupported global '", name, "'"));
  }

  absl::StatusOr<ValuePtr> PersistentLoad(const ValuePtr& pid) {
    if (pid->kind != Value::Kind::kTuple || pid->items.size() < 4 ||
        pid->items[0]->kind != Value::Kind::kString ||
        pid->items[0]->text != "storage" ||
        pid->items[1]->kind != Value::Kind::kGlobal ||
        pid->items[2]->kind != Value::Kind::kString) {
      return Err("persistent id is not a ('storage', type, key, ...) tuple");
    }
    const std::optional<at::ScalarType> dtype =
        StorageType(pid->items[1]->text);
    if (!dtype) {
      return Err(
          absl::StrCat("unsupported storage type '", pid->items[1]->text, "'"));
    }
    const std::string& key = pid->items[2]->text;
    const auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    MAPN_ASSIGN_OR_RETURN(std::string data,
                          zip_.Read(absl::StrCat(zip_.Prefix(), "data/", key)));
    const int64_t element = static_cast<int64_t>(c10::elementSize(*dtype));
    if (data.size() % element != 0) {
      return Err(absl::StrCat("storage ", key, " has ", data.size(),
                              " bytes, not a multiple of ", element));
    }
    ValuePtr v = Make(Value::Kind::kStorage);
    v->dtype = *dtype;
    v->text = key;
    v->tensor = at::empty({static_cast<int64_t>(data.size()) / element},
                          at::TensorOptions().dtype(*dtype));
    if (!data.empty())
      std::memcpy(v->tensor.data_ptr(), data.data(), data.size());
    storages_[key] = v;
    return v;
  }

  absl::Status Step(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        MAPN_ASSIGN_OR_RETURN(uint64_t proto, ReadLe(1));
        if (proto > 5) return Err("unsupported pickle protocol");
        return absl::OkStatus();
      }
      case 0x95: {  // FRAME
        MAPN_ASSIGN_OR_RETURN(uint64_t ignored, ReadLe(8));
        (void)ignored;
        return absl::OkStatus();
      }
      case '.':  // STOP
        done_ = true;
        return absl::OkStatus();
      case '(':  // MARK
        marks_.push_back(stack_.size());
        return absl::OkStatus();
      case 'N':
        Push(Make(Value::Kind::kNone));
        return absl::OkStatus();
      case 0x88:    // NEWTRUE
      case 0x89: {  // NEWFALSE
        ValuePtr v = Make(Value::Kind::kBool);
        v->boolean = op == 0x88;
        Push(v);
        return absl::OkStatus();
      }
      case 'K': {  // BININT1
        MAPN_ASSIGN_OR_RETURN(uint64_t v, ReadLe(1));
        Push(Int(static_cast<int64_t>(v)));
        return absl::OkStatus();
      }
      case 'M': {  // BININT2
        MAPN_ASSIGN_OR_RETURN(uint64_t v, ReadLe(2));
        Push(Int(static_cast<int64_t>(v)));
        return absl::OkStatus();
      }
      case 'J': {  // BININT (signed 32-bit)
        MAPN_ASSIGN_OR_RETURN(uint64_t v, ReadLe(4));
        Push(Int(static_cast<int32_t>(static_cast<uint32_t>(v))));
        return absl::OkStatus();
      }
      case 0x8a: {  // LONG1
        MAPN_ASSIGN_OR_RETURN(uint64_t n, ReadLe(1));
        if (n > 8) return Err("LONG1 wider than 64 bits");
        MAPN_ASSIGN_OR_RETURN(uint64_t v, n > 0 ? ReadLe(static_cast<int>(n))
                                                : absl::StatusOr<uint64_t>(0));
        int64_t value = static_cast<int64_t>(v);
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) {
          value -= static_cast<int64_t>(uint64_t{1} << (8 * n));  // sign
        }
        Push(Int(value));
        return absl::OkStatus();
      }
      case 'G': {  // BINFLOAT (big-endian double)
        if (pos_ + 8 > p_.size()) return Err("truncated");
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) {
          bits = (bits << 8) | static_cast<uint8_t>(p_[pos_ + i]);
        }
        pos_ += 8;
        ValuePtr v = Make(Value::Kind::kFloat);
        std::memcpy(&v->real, &bits, sizeof(bits));
        Push(v);
        return absl::OkStatus();
      }
      case 'X': {  // BINUNICODE
        MAPN_ASSIGN_OR_RETURN(uint64_t n, ReadLe(4));
        MAPN_ASSIGN_OR_RETURN(std::string s, ReadBytes(n));
        Push(Str(std::move(s)));
        return absl::OkStatus();
      }
      case 0x8c: {  // SHORT_BINUNICODE
        MAPN_ASSIGN_OR_RETURN(uint64_t n, ReadLe(1));
        MAPN_ASSIGN_OR_RETURN(std::string s, ReadBytes(n));
        Push(Str(std::move(s)));
        return absl::OkStatus();
      }
      case 'c': {  // GLOBAL module\nname\n
        MAPN_ASSIGN_OR_RETURN(std::string module, ReadLine());
        MAPN_ASSIGN_OR_RETURN(std::string name, ReadLine());
        ValuePtr v = Make(Value::Kind::kGlobal);
        v->text = absl::StrCat(module, ".", name);
        Push(v);
        return absl::OkStatus();
      }
      case ')':
        Push(Tuple({}));
        return absl::OkStatus();
      case 't': {
        MAPN_ASSIGN_OR_RETURN(std::vector<ValuePtr> items, PopMark());
        Push(Tuple(std::move(items)));
        return absl::OkStatus();
      }
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        const int n = op - 0x84;
        std::vector<ValuePtr> items(n);
        for (int i = n - 1; i >= 0; --i) {
          MAPN_ASSIGN_OR_RETURN(items[i], Pop());
        }
        Push(Tuple(std::move(items)));
        return absl::OkStatus();
      }
      case ']':
        Push(Make(Value::Kind::kList));
        return absl::OkStatus();
      case 'a': {  // APPEND
        MAPN_ASSIGN_OR_RETURN(ValuePtr item, Pop());
        MAPN_ASSIGN_OR_RETURN(ValuePtr list, Top());
        if (list->kind != Value::Kind::kList) return Err("APPEND to non-list");
        list->items.push_back(item);
        return absl::OkStatus();
      }
      case 'e': {  // APPENDS
        MAPN_ASSIGN_OR_RETURN(std::vector<ValuePtr> items, PopMark());
        MAPN_ASSIGN_OR_RETURN(ValuePtr list, Top());
        if (list->kind != Value::Kind::kList) return Err("APPENDS to non-list");
        list->items.insert(list->items.end(), items.begin(), items.end());
        return absl::OkStatus();
      }
      case '}':
        Push(Make(Value::Kind::kDict));
        return absl::OkStatus();
      case 's': {  // SETITEM
        MAPN_ASSIGN_OR_RETURN(ValuePtr value, Pop());
        MAPN_ASSIGN_OR_RETURN(ValuePtr key, Pop());
        MAPN_ASSIGN_OR_RETURN(ValuePtr dict, Top());
        return SetItems(dict, {key, value});
      }
      case 'u': {  // SETITEMS
        MAPN_ASSIGN_OR_RETURN(std::vector<ValuePtr> items, PopMark());
        MAPN_ASSIGN_OR_RETURN(ValuePtr dict, Top());
        return SetItems(dict, items);
      }
      case 'q': {  // BINPUT
        MAPN_ASSIGN_OR_RETURN(uint64_t index, ReadLe(1));
        MAPN_ASSIGN_OR_RETURN(memo_[index], Top());
        return absl::OkStatus();
      }
      case 'r': {  // LONG_BINPUT
        MAPN_ASSIGN_OR_RETURN(uint64_t index, ReadLe(4));
        MAPN_ASSIGN_OR_RETURN(memo_[index], Top());
        return absl::OkStatus();
      }
      case 0x94: {  // MEMOIZE
        MAPN_ASSIGN_OR_RETURN(memo_[memo_.size()], Top());
        return absl::OkStatus();
      }
      case 'h':    // BINGET
      case 'j': {  // LONG_BINGET
        MAPN_ASSIGN_OR_RETURN(uint64_t index, ReadLe(op == 'h' ? 1 : 4));
        const auto it = memo_.find(index);
        if (it == memo_.end())
          return Err(absl::StrCat("memo ", index, " unset"));
        Push(it->second);
        return absl::OkStatus();
      }
      case 'R': {  // REDUCE
        MAPN_ASSIGN_OR_RETURN(ValuePtr args, Pop());
        MAPN_ASSIGN_OR_RETURN(ValuePtr callable, Pop());
        MAPN_ASSIGN_OR_RETURN(ValuePtr result, Reduce(callable, args));
        Push(result);
        return absl::OkStatus();
      }
      case 'Q': {  // BINPERSID
        MAPN_ASSIGN_OR_RETURN(ValuePtr pid, Pop());
        MAPN_ASSIGN_OR_RETURN(ValuePtr storage, PersistentLoad(pid));
        Push(storage);
        return absl::OkStatus();
      }
      case 'b': {  // BUILD: state for the object below; a state_dict's
                   // _metadata (module versions), which tensors do not need.
        MAPN_ASSIGN_OR_RETURN(ValuePtr state, Pop());
        MAPN_ASSIGN_OR_RETURN(ValuePtr object, Top());
        (void)state;
        (void)object;
        return absl::OkStatus();
      }
      case '0': {  // POP
        MAPN_ASSIGN_OR_RETURN(ValuePtr ignored, Pop());
        (void)ignored;
        return absl::OkStatus();
      }
      default:
        return Err("unsupported opcode");
    }
  }

  const std::string& p_;
  const ZipReader& zip_;
  const std::string& path_;
  size_t pos_ = 0;
  bool done_ = false;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
  std::map<std::string, ValuePtr> storages_;
};

// The dict of tensors: the top object, or its "state_dict" / "model" entry.
const Value* FindStateDict(const Value& top) {
  if (top.kind != Value::Kind::kDict) return nullptr;
  bool all_tensors = !top.entries.empty();
  for (const auto& [key, value] : top.entries) {
    if (value->kind != Value::Kind::kTensor) all_tensors = false;
  }
  if (all_tensors) return &top;
  for (const char* wrapper : {"state_dict", "model"}) {
    for (const auto& [key, value] : top.entries) {
      if (key->kind == Value::Kind::kString && key->text == wrapper) {
        if (const Value* inner = FindStateDict(*value)) return inner;
      }
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::vector<NamedTensor>> ParseStateDict(
    const std::string& bytes, const std::string& path) {
  ZipReader zip(bytes, path);
  MAPN_RETURN_IF_ERROR(zip.Open());
  MAPN_ASSIGN_OR_RETURN(std::string pickle,
                        zip.Read(absl::StrCat(zip.Prefix(), "data.pkl")));
  Unpickler unpickler(pickle, zip, path);
  MAPN_ASSIGN_OR_RETURN(ValuePtr top, unpickler.Run());
  const Value* dict = FindStateDict(*top);
  if (dict == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("torch file '", path,
                     "' holds no dict of tensors (a state_dict, or one under "
                     "'state_dict' or 'model')"));
  }
  std::vector<NamedTensor> out;
  for (const auto& [key, value] : dict->entries) {
    if (key->kind != Value::Kind::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat("torch file '", path, "' has a non-string key"));
    }
    out.emplace_back(key->text, value->tensor);
  }
  return out;
}

absl::StatusOr<std::vector<NamedTensor>> ReadStateDictFile(
    const std::string& path) {
  MAPN_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseStateDict(bytes, path);
}

}  // namespace mapn::model
