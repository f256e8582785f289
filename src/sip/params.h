// Generic parameters (`;name=value`) as they appear in URIs, Via, name-addr headers and
// media types. Views into the message's bytes: nothing is copied; a value keeps its quotes
// (use sip::unquote for the text). Lookup is case-insensitive, as RFC 3261 §7.3.1 asks.
//
//   if (auto branch = via.params.find("branch")) use(*branch);
#pragma once

#include <optional>
#include <string_view>

#include <boost/container/small_vector.hpp>

#include "common/strings.h"

namespace sip {

struct Param {
  std::string_view name;
  std::string_view value;  // empty view with data()==nullptr when the parameter has no "="
  bool hasValue() const { return value.data() != nullptr; }
};

class Params {
 public:
  using Storage = boost::container::small_vector<Param, 4>;

  void add(std::string_view name, std::string_view value) { items_.push_back({name, value}); }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const Param& operator[](size_t i) const { return items_[i]; }
  Storage::const_iterator begin() const { return items_.begin(); }
  Storage::const_iterator end() const { return items_.end(); }

  // The value of the first parameter called `name` ("" for a flag), or nullopt if absent.
  std::optional<std::string_view> find(std::string_view name) const {
    for (const Param& p : items_) {
      if (common::iequals(p.name, name)) return p.hasValue() ? p.value : std::string_view("");
    }
    return std::nullopt;
  }
  bool has(std::string_view name) const { return find(name).has_value(); }

 private:
  Storage items_;
};

}  // namespace sip
