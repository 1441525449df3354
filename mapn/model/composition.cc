#include "mapn/model/composition.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mapn::model {

const CompositionEntry* CompositionTable::Find(std::string_view name) const {
  for (const CompositionEntry& entry : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

absl::StatusOr<const CompositionEntry*> CompositionTable::Get(
    std::string_view name) const {
  if (const CompositionEntry* entry = Find(name)) return entry;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown model '", std::string(name), "'; expected one of ", NameList()));
}

absl::StatusOr<const CompositionEntry*> CompositionTable::GetByType(
    std::string_view type_name) const {
  for (const CompositionEntry& entry : entries_) {
    if (entry.type_name == type_name) return &entry;
  }
  return absl::NotFoundError(absl::StrCat("no known composition is a ",
                                          std::string(type_name),
                                          " (known: ", NameList(), ")"));
}

std::string CompositionTable::NameList() const {
  std::vector<std::string> names;
  for (const CompositionEntry& entry : entries_) names.push_back(entry.name);
  return absl::StrJoin(names, ", ");
}

std::string CompositionTable::Describe(int indent) const {
  size_t width = 0;
  for (const CompositionEntry& entry : entries_) {
    width = std::max(width, entry.name.size());
  }
  std::string out;
  for (const CompositionEntry& entry : entries_) {
    absl::StrAppend(&out, std::string(static_cast<size_t>(indent), ' '),
                    entry.name, std::string(width + 2 - entry.name.size(), ' '),
                    absl::StrJoin(entry.components, " + "), "\n");
  }
  return out;
}

absl::StatusOr<AnyPipeline> CompositionTable::Create(
    std::string_view name, const PipelineOptionValues& values,
    const std::string& what) const {
  MAPN_ASSIGN_OR_RETURN(const CompositionEntry* entry, Get(name));
  return entry->create(values, what);
}

absl::Status CompositionTable::Insert(CompositionEntry entry) {
  for (const CompositionEntry& other : entries_) {
    if (other.name == entry.name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "the table already has a composition called '", entry.name, "'"));
    }
    if (other.type_name == entry.type_name) {
      return absl::AlreadyExistsError(absl::StrCat(
          "composition '", entry.name, "' is the same pipeline as '",
          other.name, "' (", entry.type_name,
          "); a checkpoint could not tell them apart"));
    }
  }
  entries_.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::StatusOr<AnyPipeline> LoadPipeline(
    const std::string& path, const CompositionTable& table,
    const std::vector<std::string>& overrides) {
  MAPN_ASSIGN_OR_RETURN(ModelFile file, ReadModelFile(path));
  const std::string what = absl::StrCat("checkpoint '", path, "'");
  // By its name where the table knows it; by its pipeline type for files
  // that record no name, or a name this table does not have (a per-frame
  // baseline is "per-frame mapn", and the same pipeline as
  // "simple_baseline").
  const CompositionEntry* entry =
      file.composition.empty() ? nullptr : table.Find(file.composition);
  if (entry != nullptr) {
    if (entry->type_name != file.type_name) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, " holds a '", file.composition, "' that is a ", file.type_name,
          ", but here '", file.composition, "' is a ", entry->type_name));
    }
  } else {
    absl::StatusOr<const CompositionEntry*> by_type =
        table.GetByType(file.type_name);
    if (!by_type.ok()) {
      return absl::NotFoundError(absl::StrCat(
          what, " holds ",
          file.composition.empty()
              ? std::string("a model")
              : absl::StrCat("composition '", file.composition, "'"),
          ", a ", file.type_name,
          ", which this program does not know (it knows ", table.NameList(),
          ")"));
    }
    entry = *by_type;
  }
  MAPN_ASSIGN_OR_RETURN(PipelineOptionValues values,
                        ParsePipelineOptions(file.options_json, what));
  for (const std::string& assignment : overrides) {
    MAPN_RETURN_IF_ERROR(ApplyOptionOverride(assignment, values));
  }
  MAPN_ASSIGN_OR_RETURN(AnyPipeline model, entry->create(values, what));
  MAPN_RETURN_IF_ERROR(
      AssignTensors(model.module(), file.tensors, what).status());
  return model;
}

}  // namespace mapn::model
