// Checkpoints of compositions (checkpoint.h, composition.h) and the import
// of torchvision ResNet files. Version 2 records the composition and every
// component's options; version-1 files (one flat ModelConfig) are written
// here by hand and load with their config converted, as do the two bundled
// models; a composition the program lacks, or whose type differs, and a
// version-1 component whose options cannot be told are clear errors. The
// torchvision files are written here, byte for byte as Python's torch.save
// writes a state_dict (zip archive with 64-byte aligned stored entries,
// protocol-2 pickle of a collections.OrderedDict with _metadata), since the
// test may not depend on Python.
#include "mapn/model/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/core/Dict.h>
#include <ATen/core/ivalue.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mapn/core/atomic_file.h"
#include "mapn/model/checkpoint_pickle.h"
#include "mapn/model/composition.h"
#include "mapn/model/compositions.h"
#include "mapn/model/model_test_fixtures.h"
#include "mapn/model/state_dict_file.h"

namespace mapn::model {
namespace {

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
// Checkpoints (version 2).

// The checkpoint a tiny Mapn gives, and the model.
struct Saved {
  Mapn model{nullptr};
  std::string path;
};

Saved SaveTinyMapn(const std::string& name, uint64_t seed) {
  Saved saved{Mapn(TinyOptions<Mapn>()), TempPath(name)};
  Randomise(*saved.model, seed);
  saved.model->eval();
  EXPECT_TRUE(SaveModel(saved.path, saved.model).ok());
  return saved;
}

// What a checkpoint stores as options: the model's, wiring resolved.
std::string WiredTinyMapnJson() {
  Mapn::Options wired = TinyOptions<Mapn>();
  wired.propagator.in_channels = kTinyChannels;
  wired.head.in_channels = kTinyChannels;
  return PipelineOptionsToJson(ToOptionValues<Mapn>(wired));
}

TEST(CheckpointTest, RoundTripRecordsCompositionAndOptions) {
  Saved saved = SaveTinyMapn("mapn.ckpt", 1);
  Mapn& model = saved.model;

  const absl::StatusOr<ModelFile> file = ReadModelFile(saved.path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->type_name, model->name());
  EXPECT_EQ(file->type_name,
            "Pipeline<SimpleBaselineEncoder, MotionWarpConvLstm, "
            "ResidualGate, DeconvHead>");
  EXPECT_EQ(file->composition, "mapn");
  EXPECT_EQ(file->options_json, WiredTinyMapnJson());
  EXPECT_NE(file->options_json.find(R"("propagator":{"in_channels":32,)"),
            std::string::npos);
  EXPECT_EQ(file->tensors.size(), ModuleTensors(*model).size());
  EXPECT_FALSE(file->training_state);
  // Version 2 of the format, as Python sees it.
  const absl::StatusOr<c10::IValue> top = LoadPickleFile(saved.path);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_TRUE(HasFormat(*top, "mapn-checkpoint"));
  EXPECT_EQ(DictGet(top->toGenericDict(), "version").toInt(), 2);

  const GopBatch batch = RandomBatch(1, 4, kTinyInputSize, 2);
  const absl::StatusOr<RunResult> a = model->Run(batch);
  ASSERT_TRUE(a.ok()) << a.status();

  // Typed.
  absl::StatusOr<Mapn> loaded = LoadModel<Mapn>(saved.path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(SameTensors(*model, **loaded));
  (*loaded)->eval();
  const absl::StatusOr<RunResult> b = (*loaded)->Run(batch);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(at::equal(a->heatmaps, b->heatmaps));
  EXPECT_TRUE(at::equal(a->decisions, b->decisions));

  // Through a table, as `mapn estimate` loads.
  const absl::StatusOr<AnyPipeline> any =
      LoadPipeline(saved.path, DefaultCompositions());
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(any->composition(), "mapn");
  EXPECT_EQ(any->options_json(), file->options_json);
  EXPECT_TRUE(SameTensors(*model, any->module()));
  any->module().eval();
  const absl::StatusOr<RunResult> c = any->Run(batch);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(at::equal(a->heatmaps, c->heatmaps));
}

// A composition saved under its options loads with them: nothing in the
// file depends on the defaults of the program that reads it.
TEST(CheckpointTest, NonDefaultOptionsAreRebuiltFromTheFile) {
  FixedIntervalWarp::Options options = TinyOptions<FixedIntervalWarp>();
  options.policy.interval = 2;
  options.propagator.kernel = 1;
  options.head.out_channels = 5;
  FixedIntervalWarp model(options);
  const std::string path = TempPath("fixed.ckpt");
  ASSERT_TRUE(SaveModel(path, model).ok());
  absl::StatusOr<FixedIntervalWarp> loaded = LoadModel<FixedIntervalWarp>(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->policy()->interval(), 2);
  EXPECT_EQ((*loaded)->propagator()->options().kernel, 1);
  EXPECT_EQ((*loaded)->joints(), 5);
  EXPECT_TRUE(SameTensors(*model, **loaded));
}

TEST(CheckpointTest, OtherShapeOrCompositionIsRefusedByName) {
  const Saved saved = SaveTinyMapn("refuse.ckpt", 3);
  const absl::StatusOr<ModelFile> file = ReadModelFile(saved.path);
  ASSERT_TRUE(file.ok()) << file.status();

  // Into a model of five joints: the head's tensors do not fit, the
  // message names them with both shapes, and the model is left untouched.
  Mapn::Options five_joints = TinyOptions<Mapn>();
  five_joints.head.out_channels = 5;
  Mapn five(five_joints);
  Randomise(*five, 4);
  Mapn before(five_joints);
  Randomise(*before, 4);
  const absl::StatusOr<AssignReport> assigned =
      AssignTensors(*five, file->tensors, "checkpoint 'refuse.ckpt'");
  ASSERT_FALSE(assigned.ok());
  EXPECT_EQ(Message(assigned.status()),
            "checkpoint 'refuse.ckpt': tensor 'head.final_layer.weight' has "
            "shape [3, 8, 1, 1] but the model's is [5, 8, 1, 1]");
  EXPECT_TRUE(SameTensors(*five, *before));
  const absl::StatusOr<WeightsReport> matching =
      LoadMatchingWeights(saved.path, *five);
  ASSERT_FALSE(matching.ok());
  EXPECT_NE(Message(matching.status())
                .find("has shape [3, 8, 1, 1] but the model's is "
                      "[5, 8, 1, 1] (was it trained with other options?)"),
            std::string::npos)
      << matching.status();
  EXPECT_TRUE(SameTensors(*five, *before));

  // Another composition.
  const absl::StatusOr<IFrameOnlyWarp> ablation =
      LoadModel<IFrameOnlyWarp>(saved.path);
  ASSERT_FALSE(ablation.ok());
  EXPECT_EQ(ablation.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(Message(ablation.status()).find("NeverExtract"), std::string::npos)
      << ablation.status();
  EXPECT_NE(Message(ablation.status()).find("ResidualGate"), std::string::npos)
      << ablation.status();
}

TEST(CheckpointTest, MissingExtraAndMisShapedTensorsAreNamed) {
  Mapn model(TinyOptions<Mapn>());
  const ModelFile contents{.type_name = model->name(),
                           .composition = "mapn",
                           .options_json = WiredTinyMapnJson(),
                           .tensors = ModuleTensors(*model)};
  const std::string path = TempPath("edited.ckpt");

  ModelFile missing = contents;
  std::erase_if(missing.tensors, [](const NamedTensor& t) {
    return t.first == "head.final_layer.bias";
  });
  ASSERT_EQ(missing.tensors.size(), contents.tensors.size() - 1);
  ASSERT_TRUE(WriteCheckpoint(path, missing).ok());
  absl::Status status = LoadModel<Mapn>(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(status).find("head.final_layer.bias [3]"),
            std::string::npos)
      << status;
  EXPECT_EQ(LoadPipeline(path, DefaultCompositions()).status(), status);

  ModelFile reshaped = contents;
  for (auto& [name, t] : reshaped.tensors) {
    if (name == "propagator.gates.weight") t = at::zeros({128, 32, 1, 1});
  }
  ASSERT_TRUE(WriteCheckpoint(path, reshaped).ok());
  status = LoadModel<Mapn>(path).status();
  EXPECT_NE(Message(status).find("'propagator.gates.weight' has shape "
                                 "[128, 32, 1, 1] but the model's is "
                                 "[128, 32, 3, 3]"),
            std::string::npos)
      << status;

  ModelFile extra = contents;
  extra.tensors.emplace_back("head.extra_layer.weight", at::zeros({2}));
  ASSERT_TRUE(WriteCheckpoint(path, extra).ok());
  status = LoadModel<Mapn>(path).status();
  EXPECT_NE(Message(status).find("head.extra_layer.weight [2]"),
            std::string::npos)
      << status;

  std::vector<NamedTensor> twice = contents.tensors;
  twice.push_back(twice.front());
  status = AssignTensors(*model, twice, "the source").status();
  EXPECT_EQ(Message(status),
            "the source holds tensor '" + twice.front().first + "' twice");
}

TEST(CheckpointTest, UnwritableAndCorruptFilesAreErrors) {
  Mapn model(TinyOptions<Mapn>());
  EXPECT_FALSE(SaveModel(TempPath("no/such/dir/x.ckpt"), model).ok());
  const std::string garbage = TempPath("garbage.ckpt");
  ASSERT_TRUE(WriteFileAtomically(garbage, "not a checkpoint").ok());
  const absl::Status status = ReadModelFile(garbage).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(status).find("garbage.ckpt"), std::string::npos);
  EXPECT_EQ(LoadPipeline(garbage, DefaultCompositions()).status(), status);
  EXPECT_EQ(ReadModelFile(TempPath("absent.ckpt")).status().code(),
            absl::StatusCode::kNotFound);
  // A torchvision file is not a checkpoint.
  SimpleBaselineEncoder encoder(TinyEncoderOptions());
  const std::string tv =
      WriteTorchSave("tv_not_ckpt.pth", ModuleTensors(*encoder));
  EXPECT_FALSE(ReadModelFile(tv).ok());
  // Nor is a checkpoint of a later version.
  GenericDict later(c10::StringType::get(), c10::AnyType::get());
  later.insert("format", std::string("mapn-checkpoint"));
  later.insert("version", int64_t{3});
  later.insert("type", Mapn::Impl::TypeName());
  const std::string v3 = TempPath("v3.ckpt");
  ASSERT_TRUE(WritePickleFile(v3, c10::IValue(later), "checkpoint").ok());
  EXPECT_EQ(Message(ReadModelFile(v3).status()),
            "'" + v3 +
                "' has checkpoint version 3; this build reads versions 1 and "
                "2");
}

// ---------------------------------------------------------------------------
// Choosing the composition.

std::string WriteModelFile(const std::string& name, const ModelFile& file) {
  const std::string path = TempPath(name);
  EXPECT_TRUE(WriteCheckpoint(path, file).ok());
  return path;
}

// A name the table lacks is not enough to refuse a file: its pipeline type
// says what it is (a per-frame baseline saved as "per-frame mapn" is a
// simple_baseline). A type the table lacks too is refused, naming both.
TEST(LoadPipelineTest, AnUnknownNameLoadsByItsTypeOrIsNamed) {
  Mapn model(TinyOptions<Mapn>());
  const std::string path =
      WriteModelFile("mapn_v9.ckpt", {.type_name = model->name(),
                                      .composition = "mapn_v9",
                                      .options_json = WiredTinyMapnJson(),
                                      .tensors = ModuleTensors(*model)});
  const absl::StatusOr<AnyPipeline> loaded =
      LoadPipeline(path, DefaultCompositions());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->composition(), "mapn");

  CompositionTable without_mapn = CompositionTable::Of<IFrameOnlyWarp>();
  const absl::StatusOr<AnyPipeline> unknown = LoadPipeline(path, without_mapn);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(unknown.status()),
            "checkpoint '" + path + "' holds composition 'mapn_v9', a " +
                Mapn::Impl::TypeName() +
                ", which this program does not know (it knows iframe_warp)");
}

// A file's "mapn" that is not this program's "mapn" (the composition was
// redefined since) must not be loaded as if it were.
TEST(LoadPipelineTest, ACompositionOfAnotherTypeIsRefused) {
  IFrameOnlyWarp model(TinyOptions<IFrameOnlyWarp>());
  const std::string path = WriteModelFile(
      "redefined.ckpt", {.type_name = model->name(),
                         .composition = "mapn",
                         .options_json = PipelineOptionsToJson(
                             ToOptionValues<IFrameOnlyWarp>(model->options())),
                         .tensors = ModuleTensors(*model)});
  const absl::StatusOr<AnyPipeline> loaded =
      LoadPipeline(path, DefaultCompositions());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Message(loaded.status()),
            "checkpoint '" + path + "' holds a 'mapn' that is a " +
                IFrameOnlyWarp::Impl::TypeName() + ", but here 'mapn' is a " +
                Mapn::Impl::TypeName());
}

// ---------------------------------------------------------------------------
// Version 1.

// The flat config of version 1 for the tiny models.
constexpr char kTinyLegacyConfig[] =
    R"({"backbone_depth": 18, "backbone_width": 4, "input_size": 64,)"
    R"( "joints": 3, "head_channels": 8, "lstm_kernel": 3,)"
    R"( "gate_downsample": 8, "gate_conv1_channels": 4,)"
    R"( "gate_conv2_channels": 8, "gate_pe_dims": 4,)"
    R"( "gate_temporal_channels": 8, "gate_temporal_kernel": 3,)"
    R"( "keyframe_interval": 3, "energy_threshold": 0.02})";

// A version-1 checkpoint's dictionary, as mapn wrote them: no composition,
// one config for the whole model.
std::string WriteVersion1(const std::string& name, const std::string& type,
                          const std::string& config,
                          const std::vector<NamedTensor>& tensors) {
  GenericDict top(c10::StringType::get(), c10::AnyType::get());
  top.insert("format", std::string("mapn-checkpoint"));
  top.insert("version", int64_t{1});
  top.insert("type", type);
  top.insert("config", config);
  top.insert("tensors", TensorDict(tensors));
  const std::string path = TempPath(name);
  EXPECT_TRUE(WritePickleFile(path, c10::IValue(top), "checkpoint").ok());
  return path;
}

TEST(Version1Test, LoadsThroughLoadPipelineWithConvertedOptions) {
  Mapn model(TinyOptions<Mapn>());
  Randomise(*model, 9);
  model->eval();
  const std::string path = WriteVersion1(
      "v1.ckpt", model->name(), kTinyLegacyConfig, ModuleTensors(*model));
  const absl::StatusOr<ModelFile> file = ReadModelFile(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->composition, "");  // version 1 did not record it
  EXPECT_EQ(file->type_name, model->name());
  EXPECT_EQ(file->options_json, WiredTinyMapnJson());

  const absl::StatusOr<AnyPipeline> loaded =
      LoadPipeline(path, DefaultCompositions());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->composition(), "mapn");  // found by its type
  EXPECT_EQ(loaded->options_json(), WiredTinyMapnJson());
  EXPECT_TRUE(SameTensors(*model, loaded->module()));
  loaded->module().eval();
  const GopBatch batch = RandomBatch(1, 4, kTinyInputSize, 10);
  const absl::StatusOr<RunResult> a = model->Run(batch);
  const absl::StatusOr<RunResult> b = loaded->Run(batch);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(at::equal(a->heatmaps, b->heatmaps));

  // Saving it again writes version 2 under its name.
  const std::string again = TempPath("v1_again.ckpt");
  ASSERT_TRUE(loaded->Save(again).ok());
  const absl::StatusOr<ModelFile> v2 = ReadModelFile(again);
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_EQ(v2->composition, "mapn");
  EXPECT_EQ(v2->options_json, file->options_json);
}

// Each component takes its fields of the flat config; fields not given
// keep version 1's defaults.
TEST(Version1Test, EachComponentTakesItsFields) {
  const auto options_of = [](const std::string& type,
                             const std::string& config) {
    const std::string path = WriteVersion1("v1_fields.ckpt", type, config, {});
    const absl::StatusOr<ModelFile> file = ReadModelFile(path);
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? file->options_json : "";
  };
  EXPECT_EQ(options_of(FixedIntervalWarp::Impl::TypeName(),
                       R"({"backbone_depth": 50, "backbone_width": 4,)"
                       R"( "joints": 15, "keyframe_interval": 6})"),
            R"({"input_size":256,"extractor":{"depth":50,"width":4},)"
            R"("propagator":{"in_channels":128,"kernel":3},)"
            R"("policy":{"interval":6},)"
            R"("head":{"in_channels":128,"width":256,"out_channels":15}})");
  EXPECT_EQ(options_of(ResidualEnergyWarp::Impl::TypeName(),
                       R"({"energy_threshold": 0.125, "lstm_kernel": 1})"),
            R"({"input_size":256,"extractor":{"depth":18,"width":64},)"
            R"("propagator":{"in_channels":512,"kernel":1},)"
            R"("policy":{"threshold":0.125},)"
            R"("head":{"in_channels":512,"width":256,"out_channels":13}})");
  EXPECT_EQ(options_of(PerFrameSimpleBaseline::Impl::TypeName(), "{}"),
            R"({"input_size":256,"extractor":{"depth":18,"width":64},)"
            R"("propagator":{},"policy":{},)"
            R"("head":{"in_channels":512,"width":256,"out_channels":13}})");
}

TEST(Version1Test, UnknownComponentsAndFieldsAreClearErrors) {
  const auto error = [](const std::string& type, const std::string& config) {
    const std::string path = WriteVersion1("v1_bad.ckpt", type, config, {});
    const absl::Status status = ReadModelFile(path).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    return Message(status);
  };
  const std::string path = TempPath("v1_bad.ckpt");
  EXPECT_EQ(error("Pipeline<SimpleBaselineEncoder, MotionWarpConvLstm, "
                  "MysteryGate, DeconvHead>",
                  kTinyLegacyConfig),
            "checkpoint '" + path +
                "' was written by an earlier mapn with component MysteryGate, "
                "whose options it cannot tell");
  EXPECT_EQ(error(Mapn::Impl::TypeName(), R"({"joints": 13, "colour": 1})"),
            "checkpoint '" + path +
                "': unknown or malformed model config field 'colour'");
  EXPECT_EQ(error(Mapn::Impl::TypeName(), R"({"joints": "13"})"),
            "checkpoint '" + path +
                "': unknown or malformed model config field 'joints'");
  EXPECT_EQ(error(Mapn::Impl::TypeName(), "[1, 2]"),
            "checkpoint '" + path + "': its model config is not a JSON object");
  EXPECT_NE(error("Mapn", "{}")
                .find("'Mapn' is not a Pipeline<...> type "
                      "name"),
            std::string::npos);
  EXPECT_NE(error("Pipeline<SimpleBaselineEncoder, DeconvHead>", "{}")
                .find("does not name four components"),
            std::string::npos);
  // Converted, but no composition of this program has that type.
  const std::string orphan = WriteVersion1(
      "v1_orphan.ckpt",
      "Pipeline<SimpleBaselineEncoder, NoWarpConvLstm, ResidualGate, "
      "DeconvHead>",
      kTinyLegacyConfig, {});
  ASSERT_TRUE(ReadModelFile(orphan).ok());
  const absl::Status status =
      LoadPipeline(orphan, DefaultCompositions()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(Message(status).find("holds a model, a "
                                 "Pipeline<SimpleBaselineEncoder, "
                                 "NoWarpConvLstm, ResidualGate, DeconvHead>, "
                                 "which this program does not know"),
            std::string::npos)
      << status;
}

// Training states hold a model too (mapn/train/training_state.h): version
// 1 flat, version 2 nesting a checkpoint's dictionary.
TEST(Version1Test, TrainingStatesOfBothVersions) {
  Mapn model(TinyOptions<Mapn>());
  Randomise(*model, 11);

  GenericDict v1(c10::StringType::get(), c10::AnyType::get());
  v1.insert("format", std::string("mapn-training-state"));
  v1.insert("version", int64_t{1});
  v1.insert("model_type", model->name());
  v1.insert("model_config", std::string(kTinyLegacyConfig));
  v1.insert("model", TensorDict(ModuleTensors(*model)));
  v1.insert("stage", int64_t{2});
  v1.insert("epochs_done", int64_t{5});
  const std::string v1_path = TempPath("state_v1.pt");
  ASSERT_TRUE(WritePickleFile(v1_path, c10::IValue(v1), "state").ok());

  GenericDict v2(c10::StringType::get(), c10::AnyType::get());
  v2.insert("format", std::string("mapn-training-state"));
  v2.insert("version", int64_t{2});
  v2.insert("model", CheckpointDict({.type_name = model->name(),
                                     .composition = "mapn",
                                     .options_json = WiredTinyMapnJson(),
                                     .tensors = ModuleTensors(*model)}));
  v2.insert("stage", int64_t{3});
  v2.insert("epochs_done", int64_t{7});
  const std::string v2_path = TempPath("state_v2.pt");
  ASSERT_TRUE(WritePickleFile(v2_path, c10::IValue(v2), "state").ok());

  for (const auto& [path, stage, epochs] :
       {std::tuple{v1_path, 2, int64_t{5}},
        std::tuple{v2_path, 3, int64_t{7}}}) {
    const absl::StatusOr<ModelFile> file = ReadModelFile(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_TRUE(file->training_state);
    EXPECT_EQ(file->stage, stage);
    EXPECT_EQ(file->epochs_done, epochs);
    EXPECT_EQ(file->options_json, WiredTinyMapnJson());
    const absl::StatusOr<AnyPipeline> loaded =
        LoadPipeline(path, DefaultCompositions());
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->composition(), "mapn");
    EXPECT_TRUE(SameTensors(*model, loaded->module()));
  }

  v2.insert_or_assign("version", int64_t{9});
  ASSERT_TRUE(WritePickleFile(v2_path, c10::IValue(v2), "state").ok());
  EXPECT_NE(Message(ReadModelFile(v2_path).status())
                .find("has training-state version 9"),
            std::string::npos);
}

// The models `mapn estimate` uses by default were written in version 1.
std::string BundledModel(const std::string& name) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const std::string runfiles = srcdir != nullptr ? srcdir : ".";
  return runfiles + "/mapn/mapn/estimate/models/" + name;
}

TEST(Version1Test, TheBundledModelsLoad) {
  struct Bundled {
    const char* file;
    const char* composition;
    bool causal;
  };
  for (const Bundled& bundled :
       {Bundled{"synthpose_mapn.ckpt", "mapn", false},
        Bundled{"synthpose_causal_mapn.ckpt", "causal_mapn", true}}) {
    SCOPED_TRACE(bundled.file);
    const std::string path = BundledModel(bundled.file);
    const absl::StatusOr<ModelFile> file = ReadModelFile(path);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->composition, "");  // version 1
    const absl::StatusOr<AnyPipeline> model =
        LoadPipeline(path, DefaultCompositions());
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_EQ(model->composition(), bundled.composition);
    EXPECT_TRUE(model->learned_policy());
    EXPECT_EQ(model->causal(), bundled.causal);
    EXPECT_EQ(model->joints(), 13);  // Penn Action's
    // It runs on frames of its size.
    model->module().eval();
    const absl::StatusOr<RunResult> run =
        model->Run(RandomBatch(1, 2, model->input_size(), 12));
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_EQ(run->heatmaps.size(3), model->heatmap_size());
    EXPECT_TRUE(at::isfinite(run->heatmaps).all().item<bool>());
  }
}

// ---------------------------------------------------------------------------
// Partial loading (the stage-1 baseline into a MAPN).

TEST(LoadMatchingWeightsTest, ExtractorAndHeadOfAStageOneBaseline) {
  PerFrameSimpleBaseline baseline(TinyOptions<PerFrameSimpleBaseline>());
  Randomise(*baseline, 13);
  const std::string path = TempPath("stage1.ckpt");
  ASSERT_TRUE(SaveModel(path, baseline).ok());

  Mapn model(TinyOptions<Mapn>());
  const auto policy_before = TensorMap(*model->policy());
  const absl::StatusOr<WeightsReport> report =
      LoadMatchingWeights(path, *model);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded,
            static_cast<int64_t>(ModuleTensors(*baseline).size()));
  EXPECT_TRUE(report->unused.empty());
  EXPECT_EQ(report->kept.size(),
            TensorMap(*model->propagator()).size() + policy_before.size());
  EXPECT_TRUE(SameTensors(*model->extractor(), *baseline->extractor()));
  EXPECT_TRUE(SameTensors(*model->head(), *baseline->head()));
  for (const auto& [name, t] : TensorMap(*model->policy())) {
    EXPECT_TRUE(at::equal(t, policy_before.at(name))) << name;
  }

  // A required part the file lacks, or a file that shares nothing.
  Mapn untouched(TinyOptions<Mapn>());
  Mapn copy(TinyOptions<Mapn>());
  CopyWeights(*untouched, *copy);
  const absl::StatusOr<WeightsReport> required =
      LoadMatchingWeights(path, *copy, {"policy."});
  ASSERT_FALSE(required.ok());
  EXPECT_NE(Message(required.status()).find("policy.conv1.weight"),
            std::string::npos)
      << required.status();
  SimpleBaselineEncoder encoder(TinyEncoderOptions());
  const std::string encoder_path = TempPath("encoder_only.ckpt");
  ASSERT_TRUE(
      WriteCheckpoint(encoder_path, {.type_name = "SimpleBaselineEncoder",
                                     .composition = "",
                                     .options_json = "{}",
                                     .tensors = ModuleTensors(*encoder)})
          .ok());
  const absl::StatusOr<WeightsReport> nothing =
      LoadMatchingWeights(encoder_path, *copy);
  ASSERT_FALSE(nothing.ok());
  EXPECT_NE(Message(nothing.status()).find("shares no tensor with the model"),
            std::string::npos)
      << nothing.status();
  EXPECT_TRUE(SameTensors(*copy, *untouched));
}

// ---------------------------------------------------------------------------
// torchvision import.

TEST(TorchvisionImportTest, StateDictLoadsOneToOne) {
  const SimpleBaselineEncoderOptions options = TinyEncoderOptions();
  SimpleBaselineEncoder source(options);
  Randomise(*source, 5);
  const std::string path = WriteTorchSave(
      "resnet18.pth", TorchvisionTensors(*source, source->channels()));

  const absl::StatusOr<std::vector<NamedTensor>> read = ReadStateDictFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), 122u);  // torchvision's count for ResNet-18
  EXPECT_EQ(read->front().first, "conv1.weight");
  EXPECT_EQ(read->back().first, "fc.bias");

  SimpleBaselineEncoder target(options);
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
  Mapn::Options options = TinyOptions<Mapn>();
  options.extractor.depth = 50;
  SimpleBaselineEncoder source(options.extractor);
  Randomise(*source, 6);
  // Saved as {"state_dict": ...}, as training scripts do.
  TorchSaveOptions nested;
  nested.nest_under_state_dict = true;
  const std::string path = WriteTorchSave(
      "resnet50.pth", TorchvisionTensors(*source, source->channels()), nested);
  Mapn model(options);
  const absl::StatusOr<ImportReport> report =
      ImportTorchvisionResNet(path, *model->extractor());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded, 318);
  EXPECT_TRUE(SameTensors(*source, *model->extractor()));
}

TEST(TorchvisionImportTest, OldFilesWithoutBatchCountersLoad) {
  SimpleBaselineEncoder source(TinyEncoderOptions());
  std::vector<NamedTensor> tensors = ModuleTensors(*source);
  std::erase_if(tensors, [](const NamedTensor& t) {
    return t.first.ends_with("num_batches_tracked");
  });
  const std::string path = WriteTorchSave("old.pth", tensors);
  SimpleBaselineEncoder target(TinyEncoderOptions());
  const absl::StatusOr<ImportReport> report =
      ImportTorchvisionResNet(path, *target);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->loaded, 100);
  EXPECT_EQ(report->skipped.size(), 20u);
  EXPECT_EQ(report->skipped.front(), "bn1.num_batches_tracked");
}

TEST(TorchvisionImportTest, WrongFilesAreNamedNotLoaded) {
  const SimpleBaselineEncoderOptions options = TinyEncoderOptions();
  SimpleBaselineEncoder source(options);
  Randomise(*source, 7);
  SimpleBaselineEncoder target(options);
  Randomise(*target, 8);
  SimpleBaselineEncoder untouched(options);
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
  SimpleBaselineEncoderOptions deeper = options;
  deeper.depth = 34;
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
  SimpleBaselineEncoder source(TinyEncoderOptions());
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
