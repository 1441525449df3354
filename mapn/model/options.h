// File: options.h
//
// The options of a model component: a plain struct with commented defaults
// that lists its fields once, in a static Fields(), so that checkpoints
// (which store every component's options by name), the command line (which
// sets one by name: --set policy.interval=6) and error messages (which name
// the field) are all derived from that one list and cannot drift apart.
//
// A type O models ComponentOptions when:
//   1. it is default-constructible (the defaults are the documented ones)
//      and copyable;
//   2. `O::Fields()` is a constexpr function returning a std::tuple of
//      OptionField<O, T>, T one of int64_t, double, bool, std::string;
//   3. `o.Validate()` returns absl::Status naming the field that is out of
//      range.
//
// A field named "in_channels" (int64_t) is the component's input width, and
// 0 there means "wired by the Pipeline": it becomes the extractor's
// channels() when the pipeline is built (pipeline.h).
//
// Example:
//
//   struct FixedIntervalKeyframesOptions {
//     int64_t interval = 4;  // extract frames 0, k, 2k, ... of a window
//     static constexpr auto Fields() {
//       return std::tuple{OptionField{"interval",
//                                     &FixedIntervalKeyframesOptions::interval}};
//     }
//     absl::Status Validate() const;
//   };
//   std::vector<NamedOption> values = OptionValues(options);
//   MAPN_ASSIGN_OR_RETURN(auto parsed,
//       OptionsFromValues<FixedIntervalKeyframesOptions>(values, "policy"));
#ifndef MAPN_MODEL_OPTIONS_H_
#define MAPN_MODEL_OPTIONS_H_

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mapn::model {

// The value of one option; the alternative is the field's type.
using OptionValue = std::variant<int64_t, double, bool, std::string>;

struct NamedOption {
  std::string name;
  OptionValue value;
  friend bool operator==(const NamedOption&, const NamedOption&) = default;
};

template <typename Owner, typename T>
struct OptionField {
  static_assert(std::is_same_v<T, int64_t> || std::is_same_v<T, double> ||
                    std::is_same_v<T, bool> || std::is_same_v<T, std::string>,
                "an option is an int64_t, a double, a bool or a std::string");
  const char* name;
  T Owner::*member;
};

template <typename O>
concept ComponentOptions = std::default_initializable<O> && std::copyable<O> &&
    requires(const O& o) {
  O::Fields();
  { o.Validate() } -> std::same_as<absl::Status>;
};

// Options of a component that has none.
struct NoOptions {
  static constexpr auto Fields() { return std::tuple<>(); }
  absl::Status Validate() const { return absl::OkStatus(); }
  friend bool operator==(const NoOptions&, const NoOptions&) = default;
};

// "an integer", "a number", "a bool" or "a string", for messages.
std::string OptionTypeName(const OptionValue& value);

// `value` as the alternative `like` holds: the same alternative as is, an
// integer as a double (JSON does not tell 2 from 2.0), text parsed as the
// number or bool it spells (command-line overrides); anything else is an
// InvalidArgument error saying what was expected.
absl::StatusOr<OptionValue> ConvertOption(const OptionValue& value,
                                          const OptionValue& like);

// Every field of `options`, in Fields() order.
template <ComponentOptions O>
std::vector<NamedOption> OptionValues(const O& options) {
  std::vector<NamedOption> out;
  std::apply(
      [&](const auto&... field) {
        (out.push_back(
             NamedOption{field.name, OptionValue(options.*(field.member))}),
         ...);
      },
      O::Fields());
  return out;
}

namespace options_internal {

// Assigns `value` to the field called `value.name` (through ConvertOption);
// false when `options` has no such field.
template <ComponentOptions O>
absl::StatusOr<bool> SetField(O& options, const NamedOption& value,
                              const std::string& what) {
  bool found = false;
  absl::Status status = absl::OkStatus();
  std::apply(
      [&](const auto&... field) {
        (
            [&] {
              if (found || value.name != field.name) return;
              found = true;
              using T = std::remove_cvref_t<decltype(options.*(field.member))>;
              absl::StatusOr<OptionValue> converted =
                  ConvertOption(value.value, OptionValue(T{}));
              if (converted.ok()) {
                options.*(field.member) = std::get<T>(*converted);
              } else {
                status = absl::InvalidArgumentError(
                    what + "." + value.name + ": " +
                    std::string(converted.status().message()));
              }
            }(),
            ...);
      },
      O::Fields());
  if (!status.ok()) return status;
  return found;
}

std::string FieldList(const std::vector<NamedOption>& defaults);

}  // namespace options_internal

// Options built from named values: fields not given keep their defaults;
// an unknown name, a value of the wrong type or a result that fails
// Validate() is an InvalidArgument error naming `what` and the field
// ("propagator.kernel must be odd, got 4").
template <ComponentOptions O>
absl::StatusOr<O> OptionsFromValues(const std::vector<NamedOption>& values,
                                    const std::string& what) {
  O options;
  for (const NamedOption& value : values) {
    absl::StatusOr<bool> found =
        options_internal::SetField(options, value, what);
    if (!found.ok()) return found.status();
    if (!*found) {
      return absl::InvalidArgumentError(
          what + " has no option '" + value.name + "'" +
          options_internal::FieldList(OptionValues(O{})));
    }
  }
  if (absl::Status valid = options.Validate(); !valid.ok()) {
    return absl::InvalidArgumentError(what + "." +
                                      std::string(valid.message()));
  }
  return options;
}

// Whether O has a field called `name`.
template <ComponentOptions O>
constexpr bool HasOption(std::string_view name) {
  return std::apply(
      [&](const auto&... field) {
        return ((std::string_view(field.name) == name) || ... || false);
      },
      O::Fields());
}

// The input width a component's options ask for (their "in_channels"
// field), or -1 when they have no such field.
template <ComponentOptions O>
int64_t InChannelsOf(const O& options) {
  int64_t channels = -1;
  std::apply(
      [&](const auto&... field) {
        (
            [&] {
              using T = std::remove_cvref_t<decltype(options.*(field.member))>;
              if constexpr (std::is_same_v<T, int64_t>) {
                if (std::string_view(field.name) == "in_channels") {
                  channels = options.*(field.member);
                }
              }
            }(),
            ...);
      },
      O::Fields());
  return channels;
}

// Validate(), and for a component built on its own (not by a Pipeline,
// which wires it first) an "in_channels" of 0 is an error too.
template <ComponentOptions O>
absl::Status ValidateToBuild(const O& options) {
  if (absl::Status valid = options.Validate(); !valid.ok()) return valid;
  if (InChannelsOf(options) == 0) {
    return absl::InvalidArgumentError(
        "in_channels is 0, which only a Pipeline can wire (to its "
        "extractor's channels); set it to build one on its own");
  }
  return absl::OkStatus();
}

// Sets the "in_channels" field to `channels` where it is 0 (wired).
template <ComponentOptions O>
void WireInChannels(O& options, int64_t channels) {
  std::apply(
      [&](const auto&... field) {
        (
            [&] {
              using T = std::remove_cvref_t<decltype(options.*(field.member))>;
              if constexpr (std::is_same_v<T, int64_t>) {
                if (std::string_view(field.name) == "in_channels" &&
                    options.*(field.member) == 0) {
                  options.*(field.member) = channels;
                }
              }
            }(),
            ...);
      },
      O::Fields());
}

}  // namespace mapn::model

#endif  // MAPN_MODEL_OPTIONS_H_
