// Checkpoints of compositions and the import of torchvision ResNet files.
// The torchvision files are written here, byte for byte as Python's
// torch.save writes a state_dict (zip archive with 64-byte aligned stored
// entries, protocol-2 pickle of a collections.OrderedDict with _metadata),
// since the test may not depend on Python.
#include "mapn/model/checkpoint.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/model/compositions.h"

namespace mapn::model {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

ModelConfig TinyConfig() {
  ModelConfig c;
  c.backbone_width = 4;
  c.input_size = 64;
  c.joints = 3;
  c.head_channels = 8;
  c.gate_conv1_channels = 4;
  c.gate_conv2_channels = 8;
  c.gate_pe_dims = 4;
  c.gate_temporal_channels = 8;
  return c;
}

// Random values everywhere, batch-norm statistics included, so that a
// tensor that was not loaded shows.
void Randomise(torch::nn::Module& module, uint64_t seed) {
  at::manual_seed(seed);
  const at::NoGradGuard no_grad;
  for (auto& [name, t] : ModuleTensors(module)) {
    if (t.is_floating_point()) {
      t.copy_(at::rand_like(t) * 0.5 + 0.5);
    } else {
      t.fill_(static_cast<int64_t>(seed));
    }
  }
}

std::map<std::string, at::Tensor> TensorMap(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (auto& [name, t] : ModuleTensors(m)) out[name] = t;
  return out;
}

bool SameTensors(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto ta = TensorMap(a), tb = TensorMap(b);
  if (ta.size() != tb.size()) return false;
  for (const auto& [name, t] : ta) {
    if (!tb.count(name) || !at::equal(t, tb.at(name))) return false;
  }
  return true;
}

GopBatch RandomBatch(uint64_t seed) {
  at::manual_seed(seed);
  GopBatch batch;
  batch.rgb = at::rand({1, 4, 3, 64, 64});
  batch.motion = at::randn({1, 4, 2, 64, 64}) * 4;
  batch.residual = at::randn({1, 4, 3, 64, 64}) * 0.05;
  batch.valid = at::ones({1, 4}, at::kBool);
  return batch;
}

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

// ---------------------------------------------------------------------------
// torch.save, reproduced.

class PickleWriter {
 public:
  void Proto() { out_ += "\x80\x02"; }
  void Stop() { out_ += '.'; }
  void Mark() { out_ += '('; }
  void Tuple() {
    out_ += 't';
    Put();
  }
  void EmptyTuple() { out_ += ')'; }
  void EmptyDict() {
    out_ += '}';
    Put();
  }
  void Reduce() {
    out_ += 'R';
    Put();
  }
  void SetItem() { out_ += 's'; }
  void SetItems() { out_ += 'u'; }
  void Build() { out_ += 'b'; }
  void NewFalse() { out_ += '\x89'; }
  void BinPersId() { out_ += 'Q'; }
  // Globals and strings are memoised once and fetched with BINGET after,
  // as Python's pickler does for the same object.
  void Global(const std::string& module, const std::string& name) {
    const std::string key = "G" + module + "." + name;
    if (Get(key)) return;
    out_ += "c" + module + "\n" + name + "\n";
    memo_[key] = Put();
  }
  void String(const std::string& s, bool shared = false) {
    if (shared && Get("S" + s)) return;
    out_ += 'X';
    Le(s.size(), 4);
    out_ += s;
    const int index = Put();
    if (shared) memo_["S" + s] = index;
  }
  void Int(int64_t v) {
    if (v >= 0 && v < 256) {
      out_ += 'K';
      Le(v, 1);
    } else if (v >= 0 && v < 65536) {
      out_ += 'M';
      Le(v, 2);
    } else {
      out_ += 'J';
      Le(static_cast<uint32_t>(v), 4);
    }
  }
  void IntTuple(const std::vector<int64_t>& values) {
    if (values.empty()) {
      EmptyTuple();
      return;
    }
    if (values.size() > 3) Mark();
    for (int64_t v : values) Int(v);
    if (values.size() > 3) {
      out_ += 't';
    } else {
      out_ += static_cast<char>(0x84 + values.size());  // TUPLE1..3
    }
    Put();
  }
  const std::string& bytes() const { return out_; }

 private:
  bool Get(const std::string& key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) return false;
    if (it->second < 256) {
      out_ += 'h';  // BINGET
      Le(it->second, 1);
    } else {
      out_ += 'j';  // LONG_BINGET
      Le(it->second, 4);
    }
    return true;
  }
  int Put() {
    if (next_ < 256) {
      out_ += 'q';  // BINPUT
      Le(next_, 1);
    } else {
      out_ += 'r';  // LONG_BINPUT
      Le(next_, 4);
    }
    return next_++;
  }
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i)
      out_ += static_cast<char>((v >> (8 * i)) & 0xFF);
  }
  std::string out_;
  std::map<std::string, int> memo_;
  int next_ = 0;
};

uint32_t Crc32(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k)
      crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
  }
  return ~crc;
}

void Le(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Stored entries; each local header carries an "FB" padding field so that
// the data starts on a 64-byte boundary, as PyTorch's writer does.
std::string Zip(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out, central;
  for (const auto& [name, data] : files) {
    const size_t offset = out.size();
    const size_t unpadded = offset + 30 + name.size() + 4;
    const size_t pad = (64 - unpadded % 64) % 64;
    Le(out, 0x04034b50, 4);
    Le(out, 0, 2);  // version needed
    Le(out, 0, 2);  // flags
    Le(out, 0, 2);  // stored
    Le(out, 0, 4);  // time, date
    Le(out, Crc32(data), 4);
    Le(out, data.size(), 4);
    Le(out, data.size(), 4);
    Le(out, name.size(), 2);
    Le(out, 4 + pad, 2);
    out += name;
    Le(out, 0x4246, 2);  // "FB"
    Le(out, pad, 2);
    out.append(pad, 'Z');
    out += data;

    Le(central, 0x02014b50, 4);
    Le(central, 0, 2);
    Le(central, 0, 2);
    Le(central, 0, 2);
    Le(central, 0, 2);
    Le(central, 0, 4);
    Le(central, Crc32(data), 4);
    Le(central, data.size(), 4);
    Le(central, data.size(), 4);
    Le(central, name.size(), 2);
    Le(central, 0, 2);  // extra
    Le(central, 0, 2);  // comment
    Le(central, 0, 2);  // disk
    Le(central, 0, 2);  // internal attributes
    Le(central, 0, 4);  // external attributes
    Le(central, offset, 4);
    central += name;
  }
  const size_t cd_offset = out.size();
  out += central;
  Le(out, 0x06054b50, 4);
  Le(out, 0, 4);
  Le(out, files.size(), 2);
  Le(out, files.size(), 2);
  Le(out, central.size(), 4);
  Le(out, cd_offset, 4);
  Le(out, 0, 2);
  return out;
}

struct TorchSaveOptions {
  bool nest_under_state_dict = false;  // {"state_dict": OrderedDict(...)}
};

// The bytes of Python's torch.save(state_dict) for float32 / int64 tensors.
std::string TorchSave(const std::vector<NamedTensor>& tensors,
                      const TorchSaveOptions& options = {}) {
  PickleWriter p;
  p.Proto();
  if (options.nest_under_state_dict) {
    p.EmptyDict();
    p.String("state_dict");
  }
  p.Global("collections", "OrderedDict");
  p.EmptyTuple();
  p.Reduce();
  p.Mark();
  std::vector<std::pair<std::string, std::string>> storages;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, tensor] = tensors[i];
    const at::Tensor t = tensor.contiguous();
    const bool is_long = t.scalar_type() == at::kLong;
    p.String(name);
    p.Global("torch._utils", "_rebuild_tensor_v2");
    p.Mark();
    p.Mark();
    p.String("storage", /*shared=*/true);
    p.Global("torch", is_long ? "LongStorage" : "FloatStorage");
    p.String(std::to_string(i));
    p.String("cpu", /*shared=*/true);
    p.Int(t.numel());
    p.Tuple();
    p.BinPersId();
    p.Int(0);
    p.IntTuple(t.sizes().vec());
    p.IntTuple(t.strides().vec());
    p.NewFalse();
    p.Global("collections", "OrderedDict");
    p.EmptyTuple();
    p.Reduce();
    p.Tuple();
    p.Reduce();
    storages.emplace_back(std::to_string(i),
                          std::string(static_cast<const char*>(t.data_ptr()),
                                      t.numel() * t.element_size()));
  }
  p.SetItems();
  // state_dict._metadata = OrderedDict({'': {'version': 1}}), set by BUILD.
  p.EmptyDict();
  p.String("_metadata");
  p.Global("collections", "OrderedDict");
  p.EmptyTuple();
  p.Reduce();
  p.Mark();
  p.String("");
  p.EmptyDict();
  p.String("version");
  p.Int(1);
  p.SetItem();
  p.SetItems();
  p.SetItem();
  p.Build();
  if (options.nest_under_state_dict) p.SetItem();
  p.Stop();

  const std::string stem = "resnet/";
  std::vector<std::pair<std::string, std::string>> files = {
      {stem + "data.pkl", p.bytes()},
      {stem + ".format_version", "1"},
      {stem + ".storage_alignment", "64"},
      {stem + "byteorder", "little"}};
  for (const auto& [key, data] : storages)
    files.emplace_back(stem + "data/" + key, data);
  files.emplace_back(stem + "version", "3\n");
  files.emplace_back(stem + ".data/serialization_id", std::string(40, '7'));
  return Zip(files);
}

std::string WriteTorchSave(const std::string& name,
                           const std::vector<NamedTensor>& tensors,
                           const TorchSaveOptions& options = {}) {
  const std::string path = TempPath(name);
  EXPECT_TRUE(WriteFileAtomically(path, TorchSave(tensors, options)).ok());
  return path;
}

// A torchvision state_dict of `encoder`: its tensors plus the classifier.
std::vector<NamedTensor> TorchvisionTensors(const torch::nn::Module& encoder,
                                            int64_t channels) {
  std::vector<NamedTensor> tensors = ModuleTensors(encoder);
  tensors.emplace_back("fc.weight", at::randn({1000, channels}));
  tensors.emplace_back("fc.bias", at::randn({1000}));
  return tensors;
}

// ---------------------------------------------------------------------------
// Checkpoints.

TEST(CheckpointTest, RoundTripOfAComposition) {
  const ModelConfig config = TinyConfig();
  Mapn model(config);
  Randomise(*model, 1);
  model->eval();
  const std::string path = TempPath("mapn.ckpt");
  ASSERT_TRUE(SaveModel(path, model).ok());

  const absl::StatusOr<CheckpointContents> contents = ReadCheckpoint(path);
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(contents->type_name, model->name());
  EXPECT_EQ(contents->type_name,
            "Pipeline<SimpleBaselineEncoder, MotionWarpConvLstm, "
            "ResidualGate, DeconvHead>");
  EXPECT_TRUE(CompareModelConfigs(contents->config, "a", config, "b").ok());
  EXPECT_EQ(contents->tensors.size(), ModuleTensors(*model).size());

  absl::StatusOr<Mapn> loaded = LoadModel<Mapn>(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(SameTensors(*model, **loaded));
  (*loaded)->eval();
  const GopBatch batch = RandomBatch(2);
  const auto a = model->Run(batch);
  const auto b = (*loaded)->Run(batch);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::equal(a->heatmaps, b->heatmaps));
  EXPECT_TRUE(at::equal(a->decisions, b->decisions));
}

TEST(CheckpointTest, OtherShapeOrCompositionIsRefusedByName) {
  const ModelConfig config = TinyConfig();
  Mapn model(config);
  Randomise(*model, 3);
  const std::string path = TempPath("refuse.ckpt");
  ASSERT_TRUE(SaveModel(path, model).ok());

  ModelConfig other = config;
  other.joints = 5;
  Mapn five(other);
  Randomise(*five, 4);
  Mapn before(other);
  Randomise(*before, 4);
  const absl::Status joints = LoadCheckpoint(path, *five, other);
  ASSERT_FALSE(joints.ok());
  EXPECT_NE(Message(joints).find("joints: checkpoint 3 vs model 5"),
            std::string::npos)
      << joints;
  EXPECT_TRUE(SameTensors(*five, *before));  // untouched

  IFrameOnlyWarp ablation(config);
  const absl::Status type = LoadCheckpoint(path, *ablation, config);
  ASSERT_FALSE(type.ok());
  EXPECT_NE(Message(type).find("NeverExtract"), std::string::npos) << type;
  EXPECT_NE(Message(type).find("ResidualGate"), std::string::npos) << type;
  EXPECT_FALSE(LoadModel<IFrameOnlyWarp>(path).ok());
}

TEST(CheckpointTest, MissingExtraAndMisShapedTensorsAreNamed) {
  const ModelConfig config = TinyConfig();
  Mapn model(config);
  CheckpointContents contents{model->name(), config, ModuleTensors(*model)};
  const std::string path = TempPath("edited.ckpt");

  CheckpointContents missing = contents;
  std::erase_if(missing.tensors, [](const NamedTensor& t) {
    return t.first == "head.final_layer.bias";
  });
  ASSERT_EQ(missing.tensors.size(), contents.tensors.size() - 1);
  ASSERT_TRUE(WriteCheckpoint(path, missing).ok());
  absl::Status status = LoadCheckpoint(path, *model, config);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(status).find("head.final_layer.bias [3]"),
            std::string::npos)
      << status;

  CheckpointContents reshaped = contents;
  for (auto& [name, t] : reshaped.tensors) {
    if (name == "propagator.gates.weight") t = at::zeros({128, 32, 1, 1});
  }
  ASSERT_TRUE(WriteCheckpoint(path, reshaped).ok());
  status = LoadCheckpoint(path, *model, config);
  EXPECT_NE(Message(status).find("'propagator.gates.weight' has shape "
                                 "[128, 32, 1, 1] but the model's is "
                                 "[128, 32, 3, 3]"),
            std::string::npos)
      << status;

  CheckpointContents extra = contents;
  extra.tensors.emplace_back("head.extra_layer.weight", at::zeros({2}));
  ASSERT_TRUE(WriteCheckpoint(path, extra).ok());
  status = LoadCheckpoint(path, *model, config);
  EXPECT_NE(Message(status).find("head.extra_layer.weight [2]"),
            std::string::npos)
      << status;
}

TEST(CheckpointTest, UnwritableAndCorruptFilesAreErrors) {
  const ModelConfig config = TinyConfig();
  Mapn model(config);
  EXPECT_FALSE(SaveModel(TempPath("no/such/dir/x.ckpt"), model).ok());
  const std::string garbage = TempPath("garbage.ckpt");
  ASSERT_TRUE(WriteFileAtomically(garbage, "not a checkpoint").ok());
  const absl::Status status = LoadCheckpoint(garbage, *model, config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(status).find("garbage.ckpt"), std::string::npos);
  EXPECT_EQ(ReadCheckpoint(TempPath("absent.ckpt")).status().code(),
            absl::StatusCode::kNotFound);
  // A torchvision file is not a checkpoint.
  SimpleBaselineEncoder encoder(config);
  const std::string tv =
      WriteTorchSave("tv_not_ckpt.pth", ModuleTensors(*encoder));
  EXPECT_FALSE(ReadCheckpoint(tv).ok());
}

// ---------------------------------------------------------------------------
// torchvision import.

TEST(TorchvisionImportTest, StateDictLoadsOneToOne) {
  ModelConfig config = TinyConfig();
  SimpleBaselineEncoder source(config);
  Randomise(*source, 5);
  const std::string path = WriteTorchSave(
      "resnet18.pth", TorchvisionTensors(*source, source->channels()));

  const absl::StatusOr<std::vector<NamedTensor>> read = ReadStateDictFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 122u);  // torchvision's count for ResNet-18
  EXPECT_EQ(read->front().first, "conv1.weight");
  EXPECT_EQ(read->back().first, "fc.bias");

  SimpleBaselineEncoder target(config);
  const absl::StatusOr<ImportReport> report =
      ImportTorchvisionResNet(path, *target);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded, 120);
  EXPECT_EQ(report->skipped,
            (std::vector<std::string>{"fc.weight", "fc.bias"}));
  EXPECT_TRUE(SameTensors(*source, *target));
  source->eval();
  target->eval();
  const at::Tensor rgb = at::rand({1, 3, 64, 64});
  EXPECT_TRUE(at::equal(source->Extract(rgb), target->Extract(rgb)));
}

TEST(TorchvisionImportTest, IntoAPipelinesExtractorAndFromTrainingFiles) {
  ModelConfig config = TinyConfig();
  config.backbone_depth = 50;
  SimpleBaselineEncoder source(config);
  Randomise(*source, 6);
  // Saved as {"state_dict": ...}, as training scripts do.
  TorchSaveOptions nested;
  nested.nest_under_state_dict = true;
  const std::string path = WriteTorchSave(
      "resnet50.pth", TorchvisionTensors(*source, source->channels()), nested);
  Mapn model(config);
  const absl::StatusOr<ImportReport> report =
      ImportTorchvisionResNet(path, *model->extractor());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded, 318);
  EXPECT_TRUE(SameTensors(*source, *model->extractor()));
}

TEST(TorchvisionImportTest, OldFilesWithoutBatchCountersLoad) {
  const ModelConfig config = TinyConfig();
  SimpleBaselineEncoder source(config);
  std::vector<NamedTensor> tensors = ModuleTensors(*source);
  std::erase_if(tensors, [](const NamedTensor& t) {
    return t.first.ends_with("num_batches_tracked");
  });
  const std::string path = WriteTorchSave("old.pth", tensors);
  SimpleBaselineEncoder target(config);
  const absl::StatusOr<ImportReport> report =
      ImportTorchvisionResNet(path, *target);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded, 100);
  EXPECT_EQ(report->skipped.size(), 20u);
  EXPECT_EQ(report->skipped.front(), "bn1.num_batches_tracked");
}

TEST(TorchvisionImportTest, WrongFilesAreNamedNotLoaded) {
  const ModelConfig config = TinyConfig();
  SimpleBaselineEncoder source(config);
  Randomise(*source, 7);
  SimpleBaselineEncoder target(config);
  Randomise(*target, 8);
  SimpleBaselineEncoder untouched(config);
  Randomise(*untouched, 8);

  std::vector<NamedTensor> tensors = ModuleTensors(*source);
  std::vector<NamedTensor> missing = tensors;
  std::erase_if(missing, [](const NamedTensor& t) {
    return t.first == "layer3.1.conv2.weight";
  });
  absl::StatusOr<ImportReport> report =
      ImportTorchvisionResNet(WriteTorchSave("missing.pth", missing), *target);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(
      Message(report.status()).find("layer3.1.conv2.weight [16, 16, 3, 3]"),
      std::string::npos)
      << report.status();

  std::vector<NamedTensor> reshaped = tensors;
  for (auto& [name, t] : reshaped) {
    if (name == "layer2.0.downsample.0.weight") t = at::zeros({8, 4, 3, 3});
  }
  report = ImportTorchvisionResNet(WriteTorchSave("reshaped.pth", reshaped),
                                   *target);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(Message(report.status())
                .find("'layer2.0.downsample.0.weight' has shape [8, 4, 3, 3] "
                      "but the model's is [8, 4, 1, 1]"),
            std::string::npos)
      << report.status();

  // A ResNet-34 file holds every ResNet-18 name with the same shapes, plus
  // more blocks: refused, not silently truncated.
  ModelConfig deeper = config;
  deeper.backbone_depth = 34;
  SimpleBaselineEncoder r34(deeper);
  report = ImportTorchvisionResNet(
      WriteTorchSave("r34.pth", ModuleTensors(*r34)), *target);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(Message(report.status()).find("layer1.2.conv1.weight"),
            std::string::npos)
      << report.status();
  EXPECT_TRUE(SameTensors(*target, *untouched));

  // A damaged file: CRC mismatch in a storage.
  std::string bytes = TorchSave(tensors);
  const size_t storage = bytes.find("resnet/data/3");
  ASSERT_NE(storage, std::string::npos);
  bytes[storage + 100] ^= 0x55;
  const std::string damaged = TempPath("damaged.pth");
  ASSERT_TRUE(WriteFileAtomically(damaged, bytes).ok());
  report = ImportTorchvisionResNet(damaged, *target);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(Message(report.status()).find("CRC"), std::string::npos)
      << report.status();

  // The pre-1.6 format is not a zip archive.
  const std::string legacy = TempPath("legacy.pth");
  ASSERT_TRUE(WriteFileAtomically(legacy, std::string("\x80\x02\x8a\x0a", 4) +
                                              std::string(200, 'x'))
                  .ok());
  report = ImportTorchvisionResNet(legacy, *target);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(Message(report.status()).find("legacy format"), std::string::npos)
      << report.status();
  EXPECT_TRUE(SameTensors(*target, *untouched));
}

TEST(TorchvisionImportTest, TruncatedFilesNeverCrash) {
  const ModelConfig config = TinyConfig();
  SimpleBaselineEncoder source(config);
  const std::string bytes = TorchSave(ModuleTensors(*source));
  // Every prefix is rejected with a status (no crash, no partial load).
  for (size_t size = 0; size < bytes.size(); size += 997) {
    EXPECT_FALSE(ParseStateDict(bytes.substr(0, size), "cut.pth").ok()) << size;
  }
  // A damaged pickle (inside a valid archive) too.
  PickleWriter p;
  p.Proto();
  p.Global("os", "system");
  p.String("echo");
  p.Tuple();
  p.Reduce();
  p.Stop();
  const std::string evil = Zip({{"x/data.pkl", p.bytes()}});
  const auto result = ParseStateDict(evil, "evil.pth");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(Message(result.status()).find("no MARK"), std::string::npos)
      << result.status();
}

}  // namespace
}  // namespace mapn::model
