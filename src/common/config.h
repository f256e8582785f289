// Switchboard's configuration: every key has a default, a YAML file may override some, and
// `--set key=value` overrides any (DESIGN.md, "Command line"). Keys are dotted paths
// ("sip.listen"); an unknown key or a bad value is an error that names the key, so a typo
// never passes silently. Parts read typed values through the accessors below.
//
//   auto cfg = common::Config::load("switchboard.yaml", {"sip.listen=udp:127.0.0.1:5070"});
//   if (!cfg) die(cfg.error().reason);
//   for (const auto& l : cfg->sipListen()) bind(l.transport, l.host, l.port);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace common {

// One listening address: `udp:0.0.0.0:5060`, `tls:[::1]:5061`, `ws:127.0.0.1:5066`.
struct ListenSpec {
  std::string transport;  // udp, tcp, tls, ws, wss
  std::string host;       // IPv6 without brackets
  uint16_t port = 0;

  static Result<ListenSpec> parse(std::string_view text);
  std::string toString() const;
};

// host:port for the HTTP API (`127.0.0.1:8080`, `[::1]:8080`); port 0 lets the OS choose.
struct HostPort {
  std::string host;
  uint16_t port = 0;

  static Result<HostPort> parse(std::string_view text);
  std::string toString() const;
};

class Config {
 public:
  // Defaults, then the file (if not empty), then each "key=value" override in order.
  static Result<Config> load(const std::string& file, const std::vector<std::string>& overrides);
  // Defaults and overrides only (tests, `serve` without --config).
  static Result<Config> defaults() { return load("", {}); }

  const std::string& dataDir() const { return data_dir_; }
  const std::vector<ListenSpec>& sipListen() const { return sip_listen_; }
  size_t sipMaxMessageBytes() const { return sip_max_message_bytes_; }
  unsigned sipWorkers() const { return sip_workers_; }  // resolved: 0 in the file = cores
  const HostPort& httpListen() const { return http_listen_; }
  const std::string& storeUrl() const { return store_url_; }
  const std::string& logLevel() const { return log_level_; }
  const std::string& logFormat() const { return log_format_; }

  // The raw value of a key as resolved (lists joined by ","), for parts with keys of their
  // own and for diagnostics. Empty when the key is unknown.
  std::string get(const std::string& key) const;

  // The resolved configuration as YAML (what `serve` prints at start).
  std::string dumpYaml() const;

  // Every known key with its description and default, in file order.
  struct KeyInfo {
    std::string key;
    std::string default_value;
    bool is_list;
    std::string help;
  };
  static const std::vector<KeyInfo>& keys();

 private:
  Status set(const std::string& key, std::vector<std::string> values);
  Status resolve();

  std::map<std::string, std::vector<std::string>> raw_;
  std::string data_dir_;
  std::vector<ListenSpec> sip_listen_;
  size_t sip_max_message_bytes_ = 0;
  unsigned sip_workers_ = 0;
  HostPort http_listen_;
  std::string store_url_;
  std::string log_level_;
  std::string log_format_;
};

}  // namespace common
