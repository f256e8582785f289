#include "common/config.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "common/address_set.h"
#include "common/strings.h"

namespace common {

const std::vector<Config::KeyInfo>& Config::keys() {
  // Keys of one section stay adjacent: dumpYaml() opens each section once.
  static const std::vector<KeyInfo> kKeys = {
      {"data_dir", Kind::kString, "./data", "embedded database, recordings and other state"},
      {"sip.listen", Kind::kList, "udp:0.0.0.0:5060,tcp:0.0.0.0:5060",
       "SIP listeners, each udp|tcp|tls|ws|wss:HOST:PORT"},
      {"sip.max_message_bytes", Kind::kInt, "65536", "larger SIP messages are refused", 1024,
       16 << 20},
      {"sip.workers", Kind::kInt, "0", "SIP worker threads; 0 = one per core", 0, 1024},
      {"sip.domains", Kind::kList, "", "SIP domains served; empty = whatever the request names"},
      {"sip.redirect_domains", Kind::kList, "",
       "domains answered by redirect (302 with the bindings as Contacts) instead of proxying"},
      {"sip.registrar_only", Kind::kList, "",
       "listeners (as written in sip.listen) that take REGISTER only; others get 501"},
      {"sip.tls.certificate", Kind::kString, "", "PEM certificate for tls: and wss: listeners"},
      {"sip.tls.key", Kind::kString, "", "PEM private key for tls: and wss: listeners"},
      {"sip.auth.register", Kind::kString, "on", "digest authentication of REGISTER", 0, 0,
       "on|off"},
      {"sip.auth.calls", Kind::kString, "on",
       "digest authentication of requests from users (trunks are trusted by address)", 0, 0,
       "on|off"},
      {"sip.auth.algorithms", Kind::kList, "md5",
       "digest algorithms challenged with, in order (md5, sha-256)"},
      {"sip.auth.sha256_domains", Kind::kList, "",
       "domains whose challenges offer SHA-256 first, then MD5 (RFC 8760)"},
      {"sip.auth.nonce_lifetime", Kind::kInt, "300",
       "seconds a nonce stays fresh; an older one is answered with stale=true", 10, 86400},
      {"sip.auth.secret", Kind::kString, "",
       "key of the nonce, branch and Record-Route HMACs, shared by every node; empty = "
       "<data_dir>/sip.key, made at first start"},
      {"sip.proxy.timer_c", Kind::kInt, "180",
       "seconds a proxied INVITE may ring unanswered on a branch before it is cancelled", 1, 3600},
      {"sip.nat.ping_interval", Kind::kInt, "30",
       "seconds between OPTIONS keep-alives to UDP bindings behind NAT; 0 = none", 0, 3600},
      {"sip.flood.enabled", Kind::kString, "on",
       "drop requests from a source past sip.flood.max_requests per window", 0, 0, "on|off"},
      {"sip.flood.max_requests", Kind::kInt, "200",
       "requests (and new connections) one source may send per window", 1, 10000000},
      {"sip.flood.window_ms", Kind::kInt, "2000", "the sliding window of the flood guard", 10,
       3600000},
      {"sip.flood.block_seconds", Kind::kInt, "300",
       "how long a source past the limit is blocked (its packets dropped unanswered)", 1, 604800},
      {"sip.flood.allowlist", Kind::kList, "",
       "addresses or CIDRs never blocked (trunk gateways and ACLs are added on their own)"},
      {"sip.dispatcher.gateway_timeout_ms", Kind::kInt, "5000",
       "a trunk gateway silent this long (not even 100 Trying) is failed over", 100, 600000},
      {"sip.dispatcher.probe_timeout_ms", Kind::kInt, "4000",
       "an OPTIONS probe of a gateway unanswered this long takes the gateway out", 100, 60000},
      {"sip.registrar.min_expires", Kind::kInt, "60", "shorter registrations get 423", 1, 86400},
      {"sip.registrar.max_expires", Kind::kInt, "3600", "longer registrations are shortened", 1,
       31536000},
      {"sip.registrar.default_expires", Kind::kInt, "3600", "when neither Contact nor Expires says",
       1, 31536000},
      {"sip.registrar.max_contacts", Kind::kInt, "10", "bindings per address-of-record", 1, 10000},
      {"sip.registrar.persist", Kind::kString, "on",
       "on: bindings are committed to the store before the 200 and survive a restart; off: "
       "memory only (Kamailio's usrloc db_mode 0), lost on restart",
       0, 0, "on|off"},
      {"http.listen", Kind::kString, "127.0.0.1:8080",
       "REST API, dashboard and /metrics over plain HTTP; a non-loopback address needs "
       "http.allow_plain_remote"},
      {"http.tls.listen", Kind::kString, "0.0.0.0:8443",
       "HTTPS (TLS 1.2 and 1.3 only), served when http.tls.certificate is set"},
      {"http.tls.certificate", Kind::kString, "", "PEM certificate chain for HTTPS"},
      {"http.tls.key", Kind::kString, "", "PEM private key for HTTPS"},
      {"http.allow_plain_remote", Kind::kString, "off",
       "on: plain HTTP may listen beyond loopback (behind a TLS-terminating proxy only)", 0, 0,
       "on|off"},
      {"http.threads", Kind::kInt, "2",
       "threads serving HTTP requests (they may wait on the store)", 1, 256},
      {"http.max_body_bytes", Kind::kInt, "1048576", "larger request bodies get 413", 1024,
       67108864},
      {"http.max_connections_per_address", Kind::kInt, "128",
       "open connections one client address (IPv6: one /64) may hold; at the cap a new one "
       "replaces the oldest idle one",
       1, 1000000},
      {"http.max_requests_per_connection", Kind::kInt, "1000",
       "requests served on one connection; the last is answered with Connection: close", 1,
       1000000000},
      {"http.trusted_proxies", Kind::kList, "",
       "reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client; empty = "
       "X-Forwarded-For is ignored"},
      {"api.master_key", Kind::kString, "",
       "64 hex digits sealing auth tokens at rest; not set = $SWITCHBOARD_MASTER_KEY, else "
       "<data_dir>/master.key (made on first start)"},
      {"api.legacy_key_checks", Kind::kInt, "4",
       "checks per second, per API key, of a secret against a hash made by an earlier version "
       "(PBKDF2, ~20 ms each; a key is re-hashed on its first success); past it attempts on that "
       "key get 401 unchecked",
       1, 1000},
      {"api.audit_failure_window", Kind::kInt, "60",
       "seconds over which failed authentications from one address against one account are "
       "counted into one audit log row",
       1, 3600},
      {"messaging.dlr_table", Kind::kString, "",
       "delivery-receipt table (format: config/dlr_table.example); not set = the built-in one"},
      {"webhooks.allow", Kind::kList, "",
       "addresses or CIDRs that webhooks may reach although local, private or reserved "
       "(e.g. 127.0.0.0/8 for development); empty = public addresses only"},
      {"store.url", Kind::kString, "",
       "sqlite:PATH or postgresql://...; not set = sqlite:<data_dir>/switchboard.db"},
      {"log.level", Kind::kString, "info", "least severe level written", 0, 0,
       "trace|debug|info|warn|error|off"},
      {"log.format", Kind::kString, "text", "one line per record as text or JSON", 0, 0,
       "text|json"},
  };
  return kKeys;
}

namespace {

using KeyInfo = Config::KeyInfo;
using Kind = Config::Kind;

Unexpected keyError(std::string_view key, std::string_view why) {
  return makeError(ErrorCode::kInvalidArgument,
                   "config key '" + std::string(key) + "': " + std::string(why));
}

const KeyInfo* findKey(std::string_view key) {
  for (const KeyInfo& k : Config::keys()) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

// "sip" is a section when some key starts with "sip.".
bool isSection(std::string_view prefix) {
  for (const KeyInfo& k : Config::keys()) {
    if (k.key.size() > prefix.size() && k.key.substr(0, prefix.size()) == prefix &&
        k.key[prefix.size()] == '.')
      return true;
  }
  return false;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

Unexpected unknownKey(std::string_view key) {
  if (isSection(key)) return keyError(key, "is a section, not a value; set one of its keys");
  const KeyInfo* best = nullptr;
  size_t best_distance = 3;  // suggest only near misses
  for (const KeyInfo& k : Config::keys()) {
    size_t d = editDistance(key, k.key);
    if (d < best_distance) {
      best = &k;
      best_distance = d;
    }
  }
  if (best) return keyError(key, "unknown key (did you mean '" + std::string(best->key) + "'?)");
  return keyError(key, "unknown key");
}

std::string_view unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    return s.substr(1, s.size() - 2);
  return s;
}

// A list as written on the command line: "a,b" or "[a, b]". Commas inside brackets do not
// split, so IPv6 addresses need no quoting: "[udp:[::1]:5060, tcp:[::1]:5060]".
Result<std::vector<std::string>> splitList(std::string_view key, std::string_view text) {
  text = trimLws(text);
  if (!text.empty() && text.front() == '[') {
    int depth = 0;
    size_t close = std::string_view::npos;
    for (size_t i = 0; i < text.size() && close == std::string_view::npos; ++i) {
      if (text[i] == '[') ++depth;
      if (text[i] == ']' && --depth == 0) close = i;
    }
    if (close == text.size() - 1) text = text.substr(1, text.size() - 2);
  }
  std::vector<std::string> items;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ',';
    if (c == '[') ++depth;
    if (c == ']' && --depth < 0) break;
    if (c != ',' || depth != 0) continue;
    std::string_view item = unquote(trimLws(text.substr(start, i - start)));
    if (!item.empty()) items.emplace_back(item);
    start = i + 1;
  }
  if (depth != 0) return keyError(key, "unbalanced brackets in list '" + std::string(text) + "'");
  return items;
}

Result<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    return makeError(ErrorCode::kInvalidArgument, "not an integer");
  return v;
}

bool oneOf(std::string_view value, std::string_view choices) {
  while (!choices.empty()) {
    size_t bar = choices.find('|');
    if (choices.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
  return false;
}

Result<uint16_t> parsePort(std::string_view s) {
  auto n = parseUint(s, 65535);
  if (!n) return makeError(ErrorCode::kInvalidArgument, "bad port '" + std::string(s) + "'");
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

// "host:port" or "[v6]:port" -> host (without brackets) and the port text.
Result<std::pair<std::string, std::string_view>> splitHostPort(std::string_view s) {
  auto bad = [&] {
    return makeError(ErrorCode::kInvalidArgument,
                     "bad address '" + std::string(s) + "' (want HOST:PORT or [IPV6]:PORT)");
  };
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return bad();
    std::string_view host = s.substr(1, close - 1);
    if (!validHost(host, true) || host.find(':') == std::string_view::npos) return bad();
    return std::make_pair(std::string(host), s.substr(close + 2));
  }
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = s.substr(0, colon);
  if (!validHost(host, false)) return bad();
  return std::make_pair(std::string(host), s.substr(colon + 1));
}

std::string joinHostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// Walks a YAML document along the key table: maps are sections, everything else a value.
class YamlReader {
 public:
  explicit YamlReader(std::vector<std::pair<std::string, std::vector<std::string>>>& out)
      : out_(out) {}

  Status readRoot(const YAML::Node& root) {
    if (root.IsNull()) return {};
    if (!root.IsMap())
      return makeError(ErrorCode::kInvalidArgument, "the top level must be a map of keys");
    return readMap(root, "");
  }

 private:
  Status readMap(const YAML::Node& map, const std::string& prefix) {
    for (const auto& kv : map) {
      if (!kv.first.IsScalar())
        return makeError(ErrorCode::kInvalidArgument, "a key under '" + prefix + "' is not text");
      std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
      if (const KeyInfo* info = findKey(key)) {
        if (auto st = readValue(*info, kv.second); !st) return st;
      } else if (isSection(key)) {
        if (kv.second.IsNull()) continue;  // "sip:" with nothing under it
        if (!kv.second.IsMap()) return keyError(key, "is a section: want a map of its keys");
        if (auto st = readMap(kv.second, key); !st) return st;
      } else {
        // Name the first full key under an unknown section: "redis.url", not "redis".
        YAML::Node n = kv.second;
        while (n.IsMap() && n.size() > 0 && n.begin()->first.IsScalar()) {
          key += "." + n.begin()->first.Scalar();
          n.reset(n.begin()->second);  // rebind; operator= would overwrite the document
        }
        return unknownKey(key);
      }
    }
    return {};
  }

  Status readValue(const KeyInfo& info, const YAML::Node& node) {
    std::string key(info.key);
    if (node.IsNull()) return {};  // "key:" with no value keeps the default
    if (node.IsMap()) return keyError(key, "want a value, not a map");
    if (node.IsScalar()) {
      if (info.kind != Kind::kList) {
        out_.push_back({key, {node.Scalar()}});
        return {};
      }
      auto items = splitList(key, node.Scalar());
      if (!items) return items.error();
      out_.push_back({key, std::move(*items)});
      return {};
    }
    if (info.kind != Kind::kList) {
      return keyError(key, "want one value, not a list (quote an IPv6 address: \"[::1]:8080\")");
    }
    std::vector<std::string> items;
    for (const auto& item : node) {
      if (!item.IsScalar()) return keyError(key, "list items must be plain values");
      items.push_back(item.Scalar());
    }
    out_.push_back({key, std::move(items)});
    return {};
  }

  std::vector<std::pair<std::string, std::vector<std::string>>>& out_;
};

}  // namespace

Result<ListenSpec> ListenSpec::parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    return makeError(ErrorCode::kInvalidArgument,
                     "bad listen address '" + std::string(text) + "' (want TRANSPORT:HOST:PORT)");
  ListenSpec l;
  l.transport = toLower(text.substr(0, colon));
  if (!oneOf(l.transport, "udp|tcp|tls|ws|wss"))
    return makeError(ErrorCode::kInvalidArgument,
                     "unknown transport '" + l.transport + "' (want udp, tcp, tls, ws or wss)");
  auto hp = splitHostPort(text.substr(colon + 1));
  if (!hp) return hp.error();
  auto port = parsePort(hp->second);
  if (!port) return port.error();
  l.host = std::move(hp->first);
  l.port = *port;
  return l;
}

std::string ListenSpec::toString() const {
  return transport + ":" + joinHostPort(host, port);
}

Result<HostPort> HostPort::parse(std::string_view text) {
  auto hp = splitHostPort(text);
  if (!hp) return hp.error();
  auto port = parsePort(hp->second);
  if (!port) return port.error();
  return HostPort{std::move(hp->first), *port};
}

std::string HostPort::toString() const {
  return joinHostPort(host, port);
}

Status Config::setValue(const std::string& key, std::vector<std::string> values) {
  const KeyInfo* info = findKey(key);
  if (!info) return unknownKey(key);
  if (info->kind != Kind::kList) {
    if (values.size() != 1) return keyError(key, "want one value, not a list");
    std::string& v = values.front();
    v = std::string(trimLws(v));
    if (info->kind == Kind::kInt) {
      auto n = parseInt(v);
      if (!n || *n < info->min || *n > info->max) {
        return keyError(key, "'" + v + "' is not a number from " + std::to_string(info->min) +
                                 " to " + std::to_string(info->max));
      }
    } else if (!info->choices.empty()) {
      v = toLower(v);
      if (!oneOf(v, info->choices)) {
        return keyError(key, "'" + v + "' is not one of " + std::string(info->choices));
      }
    }
  }
  values_[key] = std::move(values);
  return {};
}

Status Config::applyOverride(std::string_view text) {
  size_t eq = text.find('=');
  std::string key(trimLws(text.substr(0, eq)));
  if (eq == std::string_view::npos || key.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--set wants KEY=VALUE, got '" + std::string(text) + "'");
  }
  const KeyInfo* info = findKey(key);
  if (!info) return unknownKey(key);
  std::string_view value = text.substr(eq + 1);
  if (info->kind != Kind::kList) return setValue(key, {std::string(value)});
  auto items = splitList(key, value);
  if (!items) return items.error();
  return setValue(key, std::move(*items));
}

Result<Config> Config::fromYaml(std::string_view yaml, const std::vector<std::string>& overrides,
                                std::string_view origin) {
  Config c;
  for (const KeyInfo& k : keys()) {
    std::vector<std::string> initial{std::string(k.default_value)};
    if (k.kind == Kind::kList) initial = *splitList(k.key, k.default_value);  // ours: well-formed
    c.values_[std::string(k.key)] = std::move(initial);
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> entries;
  Status read;
  try {
    read = YamlReader(entries).readRoot(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    read = makeError(ErrorCode::kInvalidArgument, e.what());
  } catch (const std::exception& e) {
    read = makeError(ErrorCode::kInternal, e.what());
  }
  if (!read) return makeError(read.error().code, std::string(origin) + ": " + read.error().reason);
  for (auto& [key, values] : entries) {
    if (auto st = c.setValue(key, std::move(values)); !st) {
      return makeError(st.error().code, std::string(origin) + ": " + st.error().reason);
    }
  }
  for (const std::string& o : overrides) {
    if (auto st = c.applyOverride(o); !st) return st.error();
  }
  if (auto st = c.resolve(); !st) return st.error();
  return c;
}

Result<Config> Config::load(const std::string& file, const std::vector<std::string>& overrides) {
  if (file.empty()) return fromYaml("", overrides);
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return makeError(ErrorCode::kIo, "config file " + file + " is a directory");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return makeError(ErrorCode::kIo, "cannot read config file " + file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return makeError(ErrorCode::kIo, "cannot read config file " + file);
  return fromYaml(text, overrides, file);
}

Status Config::resolve() {
  auto one = [this](std::string_view key) -> const std::string& {
    return values_.find(key)->second.front();
  };
  data_dir_ = one("data_dir");
  if (data_dir_.empty()) return keyError("data_dir", "must not be empty");

  sip_.listen.clear();
  for (std::string& s : values_.find("sip.listen")->second) {
    auto l = ListenSpec::parse(s);
    if (!l) return keyError("sip.listen", l.error().reason);
    s = l->toString();  // dumpYaml shows the canonical form ("UDP:" -> "udp:")
    sip_.listen.push_back(std::move(*l));
  }
  sip_.max_message_bytes = size_t(*parseInt(one("sip.max_message_bytes")));
  sip_.workers = unsigned(*parseInt(one("sip.workers")));
  if (sip_.workers == 0) sip_.workers = std::max(1u, std::thread::hardware_concurrency());
  sip_.domains.clear();
  for (const std::string& d : values_.find("sip.domains")->second)
    sip_.domains.push_back(toLower(d));
  sip_.redirect_domains.clear();
  for (const std::string& d : values_.find("sip.redirect_domains")->second)
    sip_.redirect_domains.push_back(toLower(d));
  sip_.registrar_only.clear();
  for (std::string& s : values_.find("sip.registrar_only")->second) {
    auto l = ListenSpec::parse(s);
    if (!l) return keyError("sip.registrar_only", l.error().reason);
    if (std::find(sip_.listen.begin(), sip_.listen.end(), *l) == sip_.listen.end())
      return keyError("sip.registrar_only", s + " is not one of sip.listen");
    s = l->toString();
    sip_.registrar_only.push_back(std::move(*l));
  }
  sip_.tls_certificate = one("sip.tls.certificate");
  sip_.tls_key = one("sip.tls.key");
  if (sip_.tls_certificate.empty() != sip_.tls_key.empty())
    return keyError(sip_.tls_key.empty() ? "sip.tls.key" : "sip.tls.certificate",
                    "sip.tls.certificate and sip.tls.key go together");
  sip_.auth_register = one("sip.auth.register") == "on";
  sip_.auth_calls = one("sip.auth.calls") == "on";
  sip_.auth_algorithms.clear();
  for (const std::string& a : values_.find("sip.auth.algorithms")->second) {
    std::string alg = toLower(a);
    if (alg != "md5" && alg != "sha-256")
      return keyError("sip.auth.algorithms", "'" + a + "' is not md5 or sha-256");
    if (std::find(sip_.auth_algorithms.begin(), sip_.auth_algorithms.end(), alg) ==
        sip_.auth_algorithms.end())
      sip_.auth_algorithms.push_back(alg);
  }
  if (sip_.auth_algorithms.empty()) return keyError("sip.auth.algorithms", "must not be empty");
  sip_.sha256_domains.clear();
  for (const std::string& d : values_.find("sip.auth.sha256_domains")->second)
    sip_.sha256_domains.push_back(toLower(d));
  sip_.nonce_lifetime_seconds = unsigned(*parseInt(one("sip.auth.nonce_lifetime")));
  sip_.auth_secret = one("sip.auth.secret");
  sip_.timer_c_seconds = unsigned(*parseInt(one("sip.proxy.timer_c")));
  sip_.nat_ping_seconds = unsigned(*parseInt(one("sip.nat.ping_interval")));
  sip_.flood_enabled = one("sip.flood.enabled") == "on";
  sip_.flood_max_requests = unsigned(*parseInt(one("sip.flood.max_requests")));
  sip_.flood_window_ms = unsigned(*parseInt(one("sip.flood.window_ms")));
  sip_.flood_block_seconds = unsigned(*parseInt(one("sip.flood.block_seconds")));
  sip_.flood_allowlist = values_.find("sip.flood.allowlist")->second;
  // Checked here, not only when serve starts, so that `serve --check` rejects it too.
  if (auto allow = AddressSet::parse(sip_.flood_allowlist); !allow)
    return keyError("sip.flood.allowlist", allow.error().reason);
  sip_.gateway_timeout_ms = unsigned(*parseInt(one("sip.dispatcher.gateway_timeout_ms")));
  sip_.probe_timeout_ms = unsigned(*parseInt(one("sip.dispatcher.probe_timeout_ms")));
  sip_.min_expires = unsigned(*parseInt(one("sip.registrar.min_expires")));
  sip_.max_expires = unsigned(*parseInt(one("sip.registrar.max_expires")));
  sip_.default_expires = unsigned(*parseInt(one("sip.registrar.default_expires")));
  sip_.max_contacts = unsigned(*parseInt(one("sip.registrar.max_contacts")));
  sip_.persist_registrations = one("sip.registrar.persist") == "on";
  if (sip_.min_expires > sip_.max_expires)
    return keyError("sip.registrar.min_expires", "is above sip.registrar.max_expires");

  auto http = HostPort::parse(one("http.listen"));
  if (!http) return keyError("http.listen", http.error().reason);
  http_.listen = std::move(*http);
  auto https = HostPort::parse(one("http.tls.listen"));
  if (!https) return keyError("http.tls.listen", https.error().reason);
  http_.tls_listen = std::move(*https);
  http_.tls_certificate = one("http.tls.certificate");
  http_.tls_key = one("http.tls.key");
  if (http_.tls_certificate.empty() != http_.tls_key.empty())
    return keyError(http_.tls_key.empty() ? "http.tls.key" : "http.tls.certificate",
                    "http.tls.certificate and http.tls.key go together");
  http_.allow_plain_remote = one("http.allow_plain_remote") == "on";
  http_.threads = unsigned(*parseInt(one("http.threads")));
  http_.max_body_bytes = size_t(*parseInt(one("http.max_body_bytes")));
  http_.max_connections_per_address = size_t(*parseInt(one("http.max_connections_per_address")));
  http_.max_requests_per_connection = size_t(*parseInt(one("http.max_requests_per_connection")));
  http_.trusted_proxies = values_.find("http.trusted_proxies")->second;
  if (auto proxies = AddressSet::parse(http_.trusted_proxies); !proxies)
    return keyError("http.trusted_proxies", proxies.error().reason);
  master_key_ = one("api.master_key");
  if (auto allow = AddressSet::parse(values_.find("webhooks.allow")->second); !allow)
    return keyError("webhooks.allow", allow.error().reason);

  std::string& url = values_.find("store.url")->second.front();
  if (url.empty()) url = "sqlite:" + (std::filesystem::path(data_dir_) / "switchboard.db").string();
  bool sqlite = istartsWith(url, "sqlite:") && url.size() > 7;
  if (!sqlite && !istartsWith(url, "postgresql://") && !istartsWith(url, "postgres://"))
    return keyError("store.url", "want sqlite:PATH or postgresql://...");
  store_.url = url;

  log_.level = one("log.level");
  log_.format = one("log.format");
  return {};
}

Result<std::string> Config::getString(std::string_view key) const {
  const KeyInfo* info = findKey(key);
  if (!info) return makeError(ErrorCode::kNotFound, "config key '" + std::string(key) + "'");
  if (info->kind == Kind::kList) return keyError(key, "is a list");
  return values_.find(key)->second.front();
}

Result<int64_t> Config::getInt(std::string_view key) const {
  const KeyInfo* info = findKey(key);
  if (!info) return makeError(ErrorCode::kNotFound, "config key '" + std::string(key) + "'");
  if (info->kind != Kind::kInt) return keyError(key, "is not a number");
  return *parseInt(values_.find(key)->second.front());
}

Result<std::vector<std::string>> Config::getList(std::string_view key) const {
  const KeyInfo* info = findKey(key);
  if (!info) return makeError(ErrorCode::kNotFound, "config key '" + std::string(key) + "'");
  if (info->kind != Kind::kList) return keyError(key, "is not a list");
  return values_.find(key)->second;
}

std::string Config::dumpYaml() const {
  YAML::Emitter e;
  e << YAML::BeginMap;
  std::vector<std::string_view> open;  // the sections being written, outermost first
  for (const KeyInfo& k : keys()) {
    std::vector<std::string_view> path;
    for (std::string_view rest = k.key;;) {
      size_t dot = rest.find('.');
      path.push_back(rest.substr(0, dot));
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    size_t shared = 0;
    while (shared < open.size() && shared + 1 < path.size() && open[shared] == path[shared])
      ++shared;
    for (; open.size() > shared; open.pop_back()) e << YAML::EndMap;
    for (; open.size() + 1 < path.size(); open.push_back(path[open.size()])) {
      e << YAML::Key << std::string(path[open.size()]) << YAML::Value << YAML::BeginMap;
    }
    e << YAML::Key << std::string(path.back()) << YAML::Value;
    const std::vector<std::string>& v = values_.find(k.key)->second;
    if (k.kind == Kind::kList) {
      e << (v.empty() ? YAML::Flow : YAML::Block) << YAML::BeginSeq;
      for (const std::string& item : v) e << item;
      e << YAML::EndSeq;
    } else if (k.kind == Kind::kInt) {
      e << *parseInt(v.front());
    } else {
      e << v.front();
    }
    if (k.key == "sip.workers" && v.front() == "0") {
      e << YAML::Comment("one per core: " + std::to_string(sip_.workers));
    }
  }
  for (; !open.empty(); open.pop_back()) e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace common
