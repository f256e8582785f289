#include "common/config.h"

#include <sstream>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "common/strings.h"

namespace common {
namespace {

Unexpected keyError(const std::string& key, const std::string& why) {
  return makeError(ErrorCode::kInvalidArgument, "config key '" + key + "': " + why);
}

std::vector<std::string> splitList(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t c = s.find(',', i);
    std::string_view item = trimLws(s.substr(i, c == std::string_view::npos ? s.npos : c - i));
    if (!item.empty()) out.emplace_back(item);
    if (c == std::string_view::npos) break;
    i = c + 1;
  }
  return out;
}

Result<uint16_t> parsePort(std::string_view s, bool allow_zero) {
  auto n = parseUint(s, 65535);
  if (!n || (*n == 0 && !allow_zero)) {
    return makeError(ErrorCode::kInvalidArgument, "bad port '" + std::string(s) + "'");
  }
  return uint16_t(*n);
}

bool validHost(std::string_view h, bool v6) {
  if (h.empty()) return false;
  for (char c : h) {
    bool ok = isDigit(c) || isAlpha(c) || c == '.' || c == '-' || c == '_' || (v6 && c == ':');
    if (!ok) return false;
  }
  return true;
}

// "host:port" or "[v6]:port" -> host (without brackets) and port text.
Result<std::pair<std::string, std::string_view>> splitHostPort(std::string_view s) {
  auto badAddress = [&] {
    return makeError(ErrorCode::kInvalidArgument,
                     "bad address '" + std::string(s) + "' (want HOST:PORT or [IPV6]:PORT)");
  };
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return badAddress();
    std::string_view host = s.substr(1, close - 1);
    if (!validHost(host, true)) return badAddress();
    return std::make_pair(std::string(host), s.substr(close + 2));
  }
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return badAddress();
  std::string_view host = s.substr(0, colon);
  if (!validHost(host, false)) return badAddress();
  return std::make_pair(std::string(host), s.substr(colon + 1));
}

std::string joinHostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace

Result<ListenSpec> ListenSpec::parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return makeError(ErrorCode::kInvalidArgument,
                     "bad listen address '" + std::string(text) + "' (want TRANSPORT:HOST:PORT)");
  ListenSpec l;
  l.transport = toLower(text.substr(0, colon));
  if (l.transport != "udp" && l.transport != "tcp" && l.transport != "tls" && l.transport != "ws" &&
      l.transport != "wss")
    return makeError(ErrorCode::kInvalidArgument, "unknown transport '" + l.transport + "'");
  auto hp = splitHostPort(text.substr(colon + 1));
  if (!hp) return hp.error();
  l.host = hp->first;
  auto port = parsePort(hp->second, /*allow_zero=*/true);
  if (!port) return port.error();
  l.port = *port;
  return l;
}

std::string ListenSpec::toString() const {
  return transport + ":" + joinHostPort(host, port);
}

Result<HostPort> HostPort::parse(std::string_view text) {
  auto hp = splitHostPort(text);
  if (!hp) return hp.error();
  auto port = parsePort(hp->second, /*allow_zero=*/true);
  if (!port) return port.error();
  return HostPort{hp->first, *port};
}

std::string HostPort::toString() const {
  return joinHostPort(host, port);
}

const std::vector<Config::KeyInfo>& Config::keys() {
  static const std::vector<KeyInfo> kKeys = {
      {"data_dir", "./data", false, "where the embedded database and recordings live"},
      {"sip.listen", "udp:0.0.0.0:5060,tcp:0.0.0.0:5060", true,
       "SIP listeners: udp|tcp|tls|ws|wss:HOST:PORT"},
      {"sip.max_message_bytes", "65536", false, "larger SIP messages are refused (513)"},
      {"sip.workers", "0", false, "SIP worker threads; 0 = one per core"},
      {"http.listen", "127.0.0.1:8080", false, "REST API, dashboard and /metrics"},
      {"store.url", "", false,
       "sqlite:PATH or postgresql://...; empty = sqlite:<data_dir>/switchboard.db"},
      {"log.level", "info", false, "trace|debug|info|warn|error|off"},
      {"log.format", "text", false, "text|json"},
  };
  return kKeys;
}

Status Config::set(const std::string& key, std::vector<std::string> values) {
  for (const KeyInfo& k : keys()) {
    if (k.key != key) continue;
    if (!k.is_list && values.size() > 1) return keyError(key, "takes one value, not a list");
    raw_[key] = std::move(values);
    return {};
  }
  return keyError(key, "unknown key");
}

namespace {

// Flattens a YAML tree into dotted keys; scalars and sequences of scalars are values.
Status flatten(const YAML::Node& node, const std::string& prefix,
               std::vector<std::pair<std::string, std::vector<std::string>>>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      std::string name = kv.first.as<std::string>();
      std::string key = prefix.empty() ? name : prefix + "." + name;
      if (auto st = flatten(kv.second, key, out); !st) return st;
    }
    return {};
  }
  if (prefix.empty()) return makeError(ErrorCode::kInvalidArgument, "config file is not a map");
  if (node.IsNull()) return {};  // "key:" with nothing: keep the default
  if (node.IsScalar()) {
    out.push_back({prefix, {node.as<std::string>()}});
    return {};
  }
  if (node.IsSequence()) {
    std::vector<std::string> items;
    for (const auto& item : node) {
      if (!item.IsScalar()) return keyError(prefix, "list items must be plain values");
      items.push_back(item.as<std::string>());
    }
    out.push_back({prefix, std::move(items)});
    return {};
  }
  return keyError(prefix, "unsupported value");
}

}  // namespace

Result<Config> Config::load(const std::string& file, const std::vector<std::string>& overrides) {
  Config c;
  for (const KeyInfo& k : keys()) {
    c.raw_[k.key] =
        k.is_list ? splitList(k.default_value) : std::vector<std::string>{k.default_value};
  }
  if (!file.empty()) {
    std::vector<std::pair<std::string, std::vector<std::string>>> entries;
    try {
      YAML::Node root = YAML::LoadFile(file);
      if (!root.IsNull()) {
        if (auto st = flatten(root, "", entries); !st) {
          return makeError(ErrorCode::kInvalidArgument, file + ": " + st.error().reason);
        }
      }
    } catch (const YAML::BadFile&) {
      return makeError(ErrorCode::kIo, "cannot read config file " + file);
    } catch (const YAML::Exception& e) {
      return makeError(ErrorCode::kInvalidArgument, file + ": " + e.what());
    }
    for (auto& [key, values] : entries) {
      if (auto st = c.set(key, std::move(values)); !st)
        return makeError(ErrorCode::kInvalidArgument, file + ": " + st.error().reason);
    }
  }
  for (const std::string& o : overrides) {
    size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      return makeError(ErrorCode::kInvalidArgument, "--set wants KEY=VALUE, got '" + o + "'");
    std::string key = o.substr(0, eq);
    std::string_view value = std::string_view(o).substr(eq + 1);
    std::vector<std::string> values;
    std::string_view trimmed = trimLws(value);
    bool is_list = false;
    for (const KeyInfo& k : keys()) is_list |= (k.key == key && k.is_list);
    if (is_list && !trimmed.empty() && trimmed.front() == '[') {
      try {
        YAML::Node n = YAML::Load(std::string(trimmed));
        if (!n.IsSequence()) return keyError(key, "bad list '" + std::string(trimmed) + "'");
        for (const auto& item : n) values.push_back(item.as<std::string>());
      } catch (const YAML::Exception& e) {
        return keyError(key, std::string("bad list: ") + e.what());
      }
    } else {
      values = is_list ? splitList(value) : std::vector<std::string>{std::string(value)};
    }
    if (auto st = c.set(key, std::move(values)); !st) return st.error();
  }
  if (auto st = c.resolve(); !st) return st.error();
  return c;
}

Status Config::resolve() {
  auto one = [this](const char* key) -> std::string {
    const auto& v = raw_[key];
    return v.empty() ? std::string() : v.front();
  };
  data_dir_ = one("data_dir");
  if (data_dir_.empty()) return keyError("data_dir", "must not be empty");

  sip_listen_.clear();
  for (const std::string& s : raw_["sip.listen"]) {
    auto l = ListenSpec::parse(s);
    if (!l) return keyError("sip.listen", l.error().reason);
    sip_listen_.push_back(*l);
  }
  auto max_bytes = parseUint(one("sip.max_message_bytes"), 16u << 20);
  if (!max_bytes || *max_bytes < 1024)
    return keyError("sip.max_message_bytes", "want a number of bytes from 1024 to 16 MiB");
  sip_max_message_bytes_ = size_t(*max_bytes);
  auto workers = parseUint(one("sip.workers"), 256);
  if (!workers) return keyError("sip.workers", "want a number from 0 to 256");
  sip_workers_ = unsigned(*workers);
  if (sip_workers_ == 0) sip_workers_ = std::max(1u, std::thread::hardware_concurrency());

  auto http = HostPort::parse(one("http.listen"));
  if (!http) return keyError("http.listen", http.error().reason);
  http_listen_ = *http;

  store_url_ = one("store.url");
  if (store_url_.empty()) store_url_ = "sqlite:" + data_dir_ + "/switchboard.db";
  if (!istartsWith(store_url_, "sqlite:") && !istartsWith(store_url_, "postgresql://") &&
      !istartsWith(store_url_, "postgres://"))
    return keyError("store.url", "want sqlite:PATH or postgresql://...");

  log_level_ = toLower(one("log.level"));
  static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  bool level_ok = false;
  for (const char* l : kLevels) level_ok |= (log_level_ == l);
  if (!level_ok) return keyError("log.level", "want one of trace, debug, info, warn, error, off");
  log_format_ = toLower(one("log.format"));
  if (log_format_ != "text" && log_format_ != "json")
    return keyError("log.format", "want text or json");
  return {};
}

std::string Config::get(const std::string& key) const {
  auto it = raw_.find(key);
  if (it == raw_.end()) return {};
  if (key == "store.url") return store_url_;
  std::string out;
  for (const std::string& v : it->second) {
    if (!out.empty()) out += ",";
    out += v;
  }
  return out;
}

std::string Config::dumpYaml() const {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "data_dir" << YAML::Value << data_dir_;
  e << YAML::Key << "sip" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "listen" << YAML::Value << YAML::BeginSeq;
  for (const ListenSpec& l : sip_listen_) e << l.toString();
  e << YAML::EndSeq;
  e << YAML::Key << "max_message_bytes" << YAML::Value << sip_max_message_bytes_;
  e << YAML::Key << "workers" << YAML::Value << sip_workers_;
  e << YAML::EndMap;
  e << YAML::Key << "http" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "listen" << YAML::Value << http_listen_.toString();
  e << YAML::EndMap;
  e << YAML::Key << "store" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "url" << YAML::Value << store_url_;
  e << YAML::EndMap;
  e << YAML::Key << "log" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "level" << YAML::Value << log_level_;
  e << YAML::Key << "format" << YAML::Value << log_format_;
  e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace common
