// Writes the inputs of the TF.js parity goldens (golden_frames.h) for the
// node script in tools/tfjs_golden: for each model and golden frame a raw
// little-endian tensor file, and inputs.json listing them with dtype, shape
// and FNV-1a hash. docs/models.md gives the whole command.
//
//   bazel run //mapn/tfjs:make_golden_inputs -- SHARED_REAL_DIR OUT_DIR
#include <ATen/ATen.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "mapn/tfjs/golden_frames.h"
#include "mapn/tfjs/model_files.h"
#include "nlohmann/json.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SHARED_REAL_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string shared = argv[1], out = argv[2];
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const mapn::tfjs::GoldenFrame& f : mapn::tfjs::GoldenFrames()) {
    auto rgb = mapn::tfjs::DecodeRgbFrame(shared + "/" + f.clip, f.frame);
    if (!rgb.ok()) {
      std::fprintf(stderr, "%s\n", std::string(rgb.status().message()).c_str());
      return 1;
    }
    for (const char* model : mapn::tfjs::kKnownModels) {
      auto input = mapn::tfjs::ModelInput(model, *rgb);
      if (!input.ok()) {
        std::fprintf(stderr, "%s\n",
                     std::string(input.status().message()).c_str());
        return 1;
      }
      const std::string file = std::string(model) + "__" + f.name + ".raw";
      std::ofstream os(out + "/" + file, std::ios::binary);
      os.write(static_cast<const char*>(input->data_ptr()),
               input->numel() * input->element_size());
      if (!os) {
        std::fprintf(stderr, "cannot write %s/%s\n", out.c_str(), file.c_str());
        return 1;
      }
      list.push_back(
          {{"model", model},
           {"frame", f.name},
           {"file", file},
           {"dtype", input->scalar_type() == at::kInt ? "int32" : "float32"},
           {"shape", input->sizes().vec()},
           {"fnv1a64", mapn::tfjs::TensorFnv1a(*input)}});
    }
  }
  std::ofstream os(out + "/inputs.json");
  os << list.dump(1) << "\n";
  std::printf("wrote %zu inputs to %s\n", list.size(), out.c_str());
  return os ? 0 : 1;
}
