#include "mapn/model/options.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mapn::model {

std::string OptionTypeName(const OptionValue& value) {
  switch (value.index()) {
    case 0:
      return "an integer";
    case 1:
      return "a number";
    case 2:
      return "a bool";
    default:
      return "a string";
  }
}

namespace {

std::string Spelled(const OptionValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return absl::StrCat("'", v, "'");
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else {
          return absl::StrCat(v);
        }
      },
      value);
}

absl::Status Expected(const OptionValue& like, const OptionValue& got) {
  return absl::InvalidArgumentError(
      absl::StrCat("must be ", OptionTypeName(like), ", got ", Spelled(got)));
}

}  // namespace

absl::StatusOr<OptionValue> ConvertOption(const OptionValue& value,
                                          const OptionValue& like) {
  if (value.index() == like.index()) return value;
  if (std::holds_alternative<double>(like) &&
      std::holds_alternative<int64_t>(value)) {
    return OptionValue(static_cast<double>(std::get<int64_t>(value)));
  }
  const std::string* text = std::get_if<std::string>(&value);
  if (text == nullptr) return Expected(like, value);
  if (std::holds_alternative<int64_t>(like)) {
    int64_t v = 0;
    if (absl::SimpleAtoi(*text, &v)) return OptionValue(v);
  } else if (std::holds_alternative<double>(like)) {
    double v = 0;
    if (absl::SimpleAtod(*text, &v)) return OptionValue(v);
  } else if (std::holds_alternative<bool>(like)) {
    bool v = false;
    if (absl::SimpleAtob(*text, &v)) return OptionValue(v);
  }
  return Expected(like, value);
}

namespace options_internal {

std::string FieldList(const std::vector<NamedOption>& defaults) {
  if (defaults.empty()) return " (it has no options)";
  std::vector<std::string> names;
  for (const NamedOption& o : defaults) names.push_back(o.name);
  return absl::StrCat(" (it has ", absl::StrJoin(names, ", "), ")");
}

}  // namespace options_internal
}  // namespace mapn::model
