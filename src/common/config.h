// Switchboard's configuration: a tree of dotted keys ("sip.listen") where every key has a
// default, a YAML file may override some and `--set key=value` any (DESIGN.md, "Command
// line"). An unknown key or a bad value is an error that names the key, so a typo never
// passes silently. Parts read the validated typed sections (sip(), http() ...) or, for a
// key of their own, the generic typed getters.
//
//   auto cfg = common::Config::load("switchboard.yaml", {"sip.listen=udp:127.0.0.1:5070"});
//   if (!cfg) return fail(cfg.error().reason);
//   for (const common::ListenSpec& l : cfg->sip().listen) bind(l.transport, l.host, l.port);
//   int64_t bytes = cfg->getInt("sip.max_message_bytes").value_or(65536);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace common {

// One SIP listening address: `udp:0.0.0.0:5060`, `tls:[::1]:5061`, `ws:127.0.0.1:5066`.
// Port 0 asks the OS for a free port (tests).
struct ListenSpec {
  std::string transport;  // udp, tcp, tls, ws or wss
  std::string host;       // an IPv6 address is kept without its brackets
  uint16_t port = 0;

  static Result<ListenSpec> parse(std::string_view text);
  std::string toString() const;
  bool operator==(const ListenSpec&) const = default;
};

// HOST:PORT or [IPV6]:PORT, e.g. the HTTP API's `127.0.0.1:8080`.
struct HostPort {
  std::string host;
  uint16_t port = 0;

  static Result<HostPort> parse(std::string_view text);
  std::string toString() const;
  bool operator==(const HostPort&) const = default;
};

struct SipConfig {
  std::vector<ListenSpec> listen;
  size_t max_message_bytes = 65536;
  unsigned workers = 1;              // resolved: `sip.workers: 0` in the file means one per core
  std::vector<std::string> domains;  // lower case; empty = any
  std::vector<std::string> redirect_domains;  // lower case
  std::vector<ListenSpec> registrar_only;     // a subset of listen
  std::string tls_certificate;
  std::string tls_key;
  bool auth_register = true;
  bool auth_calls = true;
  std::vector<std::string> auth_algorithms;  // "md5", "sha-256", in challenge order
  std::vector<std::string> sha256_domains;   // lower case: challenged SHA-256 first, then MD5
  unsigned nonce_lifetime_seconds = 300;
  std::string auth_secret;
  unsigned timer_c_seconds = 180;
  unsigned nat_ping_seconds = 30;
  bool flood_enabled = true;
  unsigned flood_max_requests = 200;
  unsigned flood_window_ms = 2000;
  unsigned flood_block_seconds = 300;
  std::vector<std::string> flood_allowlist;
  unsigned gateway_timeout_ms = 5000;
  unsigned probe_timeout_ms = 4000;
  unsigned min_expires = 60;
  unsigned max_expires = 3600;
  unsigned default_expires = 3600;
  unsigned max_contacts = 10;
  bool persist_registrations = true;
};

struct HttpConfig {
  HostPort listen;
  HostPort tls_listen;          // served only when a certificate is configured
  std::string tls_certificate;  // both or neither
  std::string tls_key;
  bool allow_plain_remote = false;
  unsigned threads = 2;
  size_t max_body_bytes = 1048576;
  size_t max_connections_per_address = 128;
  size_t max_requests_per_connection = 1000;
  std::vector<std::string> trusted_proxies;  // CIDRs; validated
};

struct StoreConfig {
  std::string url;  // resolved: when not set, sqlite:<data_dir>/switchboard.db
};

struct LogConfig {
  std::string level;   // trace, debug, info, warn, error or off
  std::string format;  // text or json
};

class Config {
 public:
  enum class Kind { kString, kInt, kList };

  // One known key. Adding a key is one row in the table behind keys() (config.cc); a typed
  // section field is optional, the generic getters work for every row.
  struct KeyInfo {
    std::string_view key;  // dotted path; keys of one section are adjacent
    Kind kind;
    std::string_view default_value;  // a list is comma-separated; store.url's "" = derived
    std::string_view help;
    int64_t min = 0;  // kInt: the accepted range
    int64_t max = 0;
    std::string_view choices = {};  // kString: "a|b|c" when the value is one of a set
  };
  static const std::vector<KeyInfo>& keys();

  // Defaults, then FILE (skipped when empty), then each "KEY=VALUE" of `overrides` in order.
  // A list value in an override is "a,b" or "[a, b]".
  static Result<Config> load(const std::string& file, const std::vector<std::string>& overrides);
  // The same with the YAML given as text; `origin` names it in error messages.
  static Result<Config> fromYaml(std::string_view yaml, const std::vector<std::string>& overrides,
                                 std::string_view origin = "config");
  static Result<Config> defaults() { return load("", {}); }

  // Generic access by dotted key. An unknown key or a getter of the wrong kind is an error.
  Result<std::string> getString(std::string_view key) const;
  Result<int64_t> getInt(std::string_view key) const;
  Result<std::vector<std::string>> getList(std::string_view key) const;

  // The validated typed sections.
  const std::string& dataDir() const { return data_dir_; }
  const SipConfig& sip() const { return sip_; }
  const HttpConfig& http() const { return http_; }
  const StoreConfig& store() const { return store_; }
  // api.master_key: "" when not configured (then the environment or data_dir supplies it).
  const std::string& masterKey() const { return master_key_; }
  const LogConfig& log() const { return log_; }

  // The resolved configuration as YAML, every key in table order. Loading it back gives
  // the same configuration.
  std::string dumpYaml() const;

 private:
  Config() = default;
  Status setValue(const std::string& key, std::vector<std::string> values);
  Status applyOverride(std::string_view text);
  Status resolve();

  // Every known key, always present: a scalar is a one-item vector.
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::string data_dir_;
  SipConfig sip_;
  HttpConfig http_;
  StoreConfig store_;
  std::string master_key_;
  LogConfig log_;
};

}  // namespace common
