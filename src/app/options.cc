#include "app/options.h"

common::Result<ConfigOptions> parseConfigOptions(const std::vector<std::string>& args,
                                                 const std::set<std::string>& allowed_flags,
                                                 const std::set<std::string>& valued) {
  ConfigOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& name) -> common::Result<std::string> {
      if (a.size() > name.size() && a.compare(0, name.size() + 1, name + "=") == 0)
        return a.substr(name.size() + 1);
      if (i + 1 >= args.size())
        return common::makeError(common::ErrorCode::kInvalidArgument, name + " needs a value");
      return args[++i];
    };
    if (a == "--config" || a.rfind("--config=", 0) == 0) {
      auto v = value("--config");
      if (!v) return v.error();
      o.config_file = *v;
    } else if (a == "--set" || a.rfind("--set=", 0) == 0) {
      auto v = value("--set");
      if (!v) return v.error();
      o.overrides.push_back(*v);
    } else if (std::string name = a.substr(0, a.find('=')); valued.count(name)) {
      auto v = value(name);
      if (!v) return v.error();
      o.values[name] = *v;
    } else if (allowed_flags.count(a)) {
      o.flags.insert(a);
    } else if (!a.empty() && a[0] == '-') {
      return common::makeError(common::ErrorCode::kInvalidArgument, "unknown option " + a);
    } else {
      o.positional.push_back(a);
    }
  }
  return o;
}
