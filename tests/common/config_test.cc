#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/result.h"
#include "common/strings.h"

namespace {

using common::Config;
using common::ListenSpec;

// A YAML file in the temp folder, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    static int n = 0;
    path_ = (std::filesystem::temp_directory_path() /
             ("sb_config_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + ".yaml"))
                .string();
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The error of a load that must fail; the test fails if it succeeds.
std::string errorOf(const common::Result<Config>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? std::string() : r.error().reason;
}

TEST(Config, DefaultsNeedNoFile) {
  auto c = Config::defaults();
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->dataDir(), "./data");
  ASSERT_EQ(c->sip().listen.size(), 2u);
  EXPECT_EQ(c->sip().listen[0], (ListenSpec{"udp", "0.0.0.0", 5060}));
  EXPECT_EQ(c->sip().listen[1], (ListenSpec{"tcp", "0.0.0.0", 5060}));
  EXPECT_EQ(c->sip().max_message_bytes, 65536u);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(c->sip().workers, cores);  // 0 means one per core
  EXPECT_EQ(c->http().listen.host, "127.0.0.1");
  EXPECT_EQ(c->http().listen.port, 8080);
  EXPECT_EQ(c->store().url, "sqlite:./data/switchboard.db");
  EXPECT_EQ(c->log().level, "info");
  EXPECT_EQ(c->log().format, "text");
}

TEST(Config, GenericGettersByDottedKey) {
  auto c = Config::load("", {"sip.workers=4"});
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->getString("data_dir").value_or(""), "./data");
  EXPECT_EQ(c->getString("store.url").value_or(""), "sqlite:./data/switchboard.db");
  EXPECT_EQ(c->getInt("sip.max_message_bytes").value_or(0), 65536);
  EXPECT_EQ(c->getInt("sip.workers").value_or(0), 4);
  EXPECT_EQ(c->getList("sip.listen").value_or(std::vector<std::string>{}),
            (std::vector<std::string>{"udp:0.0.0.0:5060", "tcp:0.0.0.0:5060"}));
  // Wrong kind and unknown key are errors naming the key, not a silent empty value.
  auto wrong = c->getInt("http.listen");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().reason.find("http.listen"), std::string::npos);
  EXPECT_FALSE(c->getString("sip.listen").has_value());
  EXPECT_FALSE(c->getList("log.level").has_value());
  auto unknown = c->getString("sip.nosuch");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, common::ErrorCode::kNotFound);
  EXPECT_NE(unknown.error().reason.find("sip.nosuch"), std::string::npos);
}

TEST(Config, YamlFileThenOverrides) {
  TempFile file(
      "data_dir: /tmp/sbdata\n"
      "sip:\n"
      "  listen:\n"
      "    - udp:127.0.0.1:5070\n"
      "    - tls:[::1]:5071\n"
      "  workers: 3\n"
      "http:\n"
      "  listen: \"[::1]:8081\"\n"
      "log:\n"
      "  level: debug\n"
      "  format:\n");  // no value: keeps the default
  auto c = Config::load(file.path(), {"http.listen=[::1]:0", "log.format=json"});
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->dataDir(), "/tmp/sbdata");
  ASSERT_EQ(c->sip().listen.size(), 2u);
  EXPECT_EQ(c->sip().listen[0], (ListenSpec{"udp", "127.0.0.1", 5070}));
  EXPECT_EQ(c->sip().listen[1], (ListenSpec{"tls", "::1", 5071}));
  EXPECT_EQ(c->sip().max_message_bytes, 65536u);  // not in the file: default
  EXPECT_EQ(c->sip().workers, 3u);
  EXPECT_EQ(c->http().listen.host, "::1");  // the override beats the file
  EXPECT_EQ(c->http().listen.port, 0);
  EXPECT_EQ(c->log().level, "debug");
  EXPECT_EQ(c->log().format, "json");
}

TEST(Config, YamlTextFlowListsAndEmptyDocuments) {
  auto c = Config::fromYaml("sip: {listen: [ws:127.0.0.1:5066, 'wss:[::1]:5067']}\n", {});
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  ASSERT_EQ(c->sip().listen.size(), 2u);
  EXPECT_EQ(c->sip().listen[1], (ListenSpec{"wss", "::1", 5067}));
  // A scalar for a list key is a one-item (or comma-separated) list.
  auto one = Config::fromYaml("sip:\n  listen: tcp:10.0.0.1:5060\n", {});
  ASSERT_TRUE(one.has_value()) << one.error().reason;
  EXPECT_EQ(one->sip().listen, (std::vector<ListenSpec>{{"tcp", "10.0.0.1", 5060}}));
  // An empty file, a comment-only file and an empty section keep every default.
  for (const char* text : {"", "# nothing\n", "sip:\n"}) {
    auto d = Config::fromYaml(text, {});
    ASSERT_TRUE(d.has_value()) << text;
    EXPECT_EQ(d->sip().listen.size(), 2u);
  }
  TempFile empty("");
  EXPECT_TRUE(Config::load(empty.path(), {}).has_value());
}

TEST(Config, SetOverridesListsAndIpv6) {
  auto comma = Config::load("", {"sip.listen=udp:127.0.0.1:5080, ws:127.0.0.1:5066"});
  ASSERT_TRUE(comma.has_value()) << comma.error().reason;
  EXPECT_EQ(comma->sip().listen,
            (std::vector<ListenSpec>{{"udp", "127.0.0.1", 5080}, {"ws", "127.0.0.1", 5066}}));
  auto flow = Config::load("", {"sip.listen=[tcp:127.0.0.1:5090]"});
  ASSERT_TRUE(flow.has_value()) << flow.error().reason;
  EXPECT_EQ(flow->sip().listen, (std::vector<ListenSpec>{{"tcp", "127.0.0.1", 5090}}));
  // IPv6 brackets inside a list need no quoting, in either form.
  auto v6flow = Config::load("", {"sip.listen=[udp:[::1]:5060, 'tcp:[fe80::1]:5062']"});
  ASSERT_TRUE(v6flow.has_value()) << v6flow.error().reason;
  EXPECT_EQ(v6flow->sip().listen,
            (std::vector<ListenSpec>{{"udp", "::1", 5060}, {"tcp", "fe80::1", 5062}}));
  auto v6comma = Config::load("", {"sip.listen=udp:[::1]:5060,tls:[2001:db8::5]:5061"});
  ASSERT_TRUE(v6comma.has_value()) << v6comma.error().reason;
  EXPECT_EQ(v6comma->sip().listen[1], (ListenSpec{"tls", "2001:db8::5", 5061}));
  // The same key twice: the last one wins. An empty list means no SIP listener.
  auto twice = Config::load("", {"sip.workers=2", "sip.workers=5", "sip.listen=[]"});
  ASSERT_TRUE(twice.has_value()) << twice.error().reason;
  EXPECT_EQ(twice->sip().workers, 5u);
  EXPECT_TRUE(twice->sip().listen.empty());
  // Choices are case-insensitive and stored lower-case.
  auto upper = Config::load("", {"log.level=DEBUG", "sip.listen=UDP:127.0.0.1:5060"});
  ASSERT_TRUE(upper.has_value()) << upper.error().reason;
  EXPECT_EQ(upper->log().level, "debug");
  EXPECT_EQ(upper->sip().listen[0].transport, "udp");
  EXPECT_NE(upper->dumpYaml().find("- udp:127.0.0.1:5060"), std::string::npos);
}

TEST(Config, EdgeKeys) {
  auto d = Config::defaults();
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->sip().domains.empty());
  EXPECT_TRUE(d->sip().auth_register);
  EXPECT_TRUE(d->sip().auth_calls);
  EXPECT_EQ(d->sip().nonce_lifetime_seconds, 300u);
  // One MD5 challenge by default: phones that stop at a second challenge in one realm
  // (baresip, many deployed sets) still register; SHA-256 is offered per domain.
  EXPECT_EQ(d->sip().auth_algorithms, (std::vector<std::string>{"md5"}));
  EXPECT_TRUE(d->sip().sha256_domains.empty());
  auto sha = Config::load("", {"sip.auth.sha256_domains=Secure.Example.com"});
  ASSERT_TRUE(sha.has_value());
  EXPECT_EQ(sha->sip().sha256_domains, (std::vector<std::string>{"secure.example.com"}));
  EXPECT_FALSE(Config::load("", {"sip.auth.algorithms=md5,sha-512"}).has_value());
  EXPECT_FALSE(Config::load("", {"sip.auth.algorithms=[]"}).has_value());
  EXPECT_EQ(d->sip().min_expires, 60u);
  EXPECT_EQ(d->sip().max_expires, 3600u);
  auto c =
      Config::load("", {"sip.domains=Example.COM,b.org", "sip.auth.calls=OFF",
                        "sip.listen=udp:127.0.0.1:5060,tcp:127.0.0.1:5060",
                        "sip.registrar_only=UDP:127.0.0.1:5060", "sip.registrar.min_expires=30"});
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_EQ(c->sip().domains, (std::vector<std::string>{"example.com", "b.org"}));
  EXPECT_FALSE(c->sip().auth_calls);
  EXPECT_EQ(c->sip().registrar_only, (std::vector<ListenSpec>{{"udp", "127.0.0.1", 5060}}));
  EXPECT_EQ(c->sip().min_expires, 30u);
  // A registrar-only listener must be one of the listeners; bounds and pairs are checked.
  auto stray = Config::load("", {"sip.registrar_only=udp:127.0.0.1:9999"});
  ASSERT_FALSE(stray.has_value());
  EXPECT_NE(stray.error().reason.find("sip.registrar_only"), std::string::npos);
  EXPECT_FALSE(Config::load("", {"sip.auth.register=maybe"}).has_value());
  EXPECT_FALSE(Config::load("", {"sip.tls.certificate=/x.pem"}).has_value());
  EXPECT_FALSE(Config::load("", {"sip.registrar.min_expires=7200"}).has_value());
}

TEST(Config, FloodKeys) {
  auto d = Config::defaults();
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->sip().flood_enabled);
  EXPECT_EQ(d->sip().flood_max_requests, 200u);
  EXPECT_EQ(d->sip().flood_window_ms, 2000u);
  EXPECT_EQ(d->sip().flood_block_seconds, 300u);
  EXPECT_TRUE(d->sip().flood_allowlist.empty());
  auto c = Config::load(
      "", {"sip.flood.enabled=off", "sip.flood.max_requests=20", "sip.flood.window_ms=1000",
           "sip.flood.block_seconds=30",
           "sip.flood.allowlist=127.0.0.4,192.0.2.0/24,2001:db8::/32,[2001:db8::7],::1/128"});
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  EXPECT_FALSE(c->sip().flood_enabled);
  EXPECT_EQ(c->sip().flood_max_requests, 20u);
  EXPECT_EQ(c->sip().flood_window_ms, 1000u);
  EXPECT_EQ(c->sip().flood_block_seconds, 30u);
  EXPECT_EQ(c->sip().flood_allowlist.size(), 5u);
  // The allowlist is checked at load time (so `serve --check` rejects it), naming the entry.
  for (const char* bad : {"192.0.2.0/33", "2001:db8::/129", "example.com", "10.0.0.1/", "1.2.3.4/x",
                          "10.0.0.0/0024"}) {
    std::string e = errorOf(Config::load("", {std::string("sip.flood.allowlist=") + bad}));
    EXPECT_NE(e.find("'sip.flood.allowlist'"), std::string::npos) << bad << ": " << e;
    EXPECT_NE(e.find(bad), std::string::npos) << bad << ": " << e;
  }
}

TEST(Config, StoreUrlFollowsDataDirUnlessSet) {
  TempFile file("data_dir: /srv/sb\n");
  auto from_file = Config::load(file.path(), {});
  ASSERT_TRUE(from_file.has_value());
  EXPECT_EQ(from_file->store().url, "sqlite:/srv/sb/switchboard.db");
  // Derived after every override, so --set data_dir moves the database too.
  auto overridden = Config::load(file.path(), {"data_dir=/var/lib/sb/"});
  ASSERT_TRUE(overridden.has_value());
  EXPECT_EQ(overridden->store().url, "sqlite:/var/lib/sb/switchboard.db");
  auto explicit_url = Config::load(file.path(), {"store.url=postgresql://sb@127.0.0.1:5432/sb"});
  ASSERT_TRUE(explicit_url.has_value());
  EXPECT_EQ(explicit_url->store().url, "postgresql://sb@127.0.0.1:5432/sb");
  auto sqlite = Config::load("", {"store.url=sqlite:/tmp/other.db"});
  ASSERT_TRUE(sqlite.has_value());
  EXPECT_EQ(sqlite->store().url, "sqlite:/tmp/other.db");
}

TEST(Config, UnknownKeysAreErrorsNamingTheKey) {
  EXPECT_NE(errorOf(Config::load("", {"nosuch.key=1"})).find("'nosuch.key'"), std::string::npos);
  // A typo gets a suggestion.
  std::string typo = errorOf(Config::load("", {"sip.lisen=udp:127.0.0.1:5060"}));
  EXPECT_NE(typo.find("'sip.lisen'"), std::string::npos) << typo;
  EXPECT_NE(typo.find("did you mean 'sip.listen'"), std::string::npos) << typo;
  EXPECT_NE(errorOf(Config::load("", {"sip=1"})).find("'sip'"), std::string::npos);

  TempFile nested("sip:\n  lisen: [udp:127.0.0.1:5060]\n");
  std::string e = errorOf(Config::load(nested.path(), {}));
  EXPECT_NE(e.find("sip.lisen"), std::string::npos) << e;
  EXPECT_NE(e.find(nested.path()), std::string::npos) << e;  // and the file
  EXPECT_NE(errorOf(Config::fromYaml("redis:\n  url: redis://x\n", {})).find("redis.url"),
            std::string::npos);
  EXPECT_NE(errorOf(Config::fromYaml("datadir: /x\n", {})).find("datadir"), std::string::npos);
  // A section given a value, a value given a map.
  EXPECT_NE(errorOf(Config::fromYaml("sip: 5\n", {})).find("'sip'"), std::string::npos);
  EXPECT_NE(errorOf(Config::fromYaml("http:\n  listen: {host: x}\n", {})).find("http.listen"),
            std::string::npos);
}

TEST(Config, BadValuesAreErrorsNamingTheKey) {
  struct Case {
    const char* set;
    const char* key;
  } cases[] = {
      {"sip.listen=udp:127.0.0.1:99999", "sip.listen"},
      {"sip.listen=udp:127.0.0.1:-1", "sip.listen"},
      {"sip.listen=carrier-pigeon:127.0.0.1:5060", "sip.listen"},
      {"sip.listen=udp:::1:5060", "sip.listen"},  // IPv6 without brackets
      {"sip.listen=udp:127.0.0.1", "sip.listen"},
      {"sip.listen=[udp:[::1:5060]", "sip.listen"},
      {"http.listen=localhost", "http.listen"},
      {"http.listen=127.0.0.1:65536", "http.listen"},
      {"http.listen=a:1,b:2", "http.listen"},
      {"log.level=loud", "log.level"},
      {"log.format=xml", "log.format"},
      {"store.url=mysql://x", "store.url"},
      {"store.url=sqlite:", "store.url"},
      {"sip.max_message_bytes=10", "sip.max_message_bytes"},
      {"sip.max_message_bytes=lots", "sip.max_message_bytes"},
      {"sip.workers=-1", "sip.workers"},
      {"sip.flood.enabled=maybe", "sip.flood.enabled"},
      {"sip.flood.max_requests=0", "sip.flood.max_requests"},
      {"sip.flood.window_ms=5", "sip.flood.window_ms"},
      {"sip.flood.block_seconds=0", "sip.flood.block_seconds"},
      {"sip.flood.allowlist=10.0.0.0/8,bogus", "sip.flood.allowlist"},
      {"data_dir=", "data_dir"},
  };
  for (const Case& c : cases) {
    std::string e = errorOf(Config::load("", {c.set}));
    EXPECT_NE(e.find(std::string("'") + c.key + "'"), std::string::npos) << c.set << ": " << e;
  }
  EXPECT_NE(errorOf(Config::load("", {"no-equals-sign"})).find("KEY=VALUE"), std::string::npos);
  // In YAML, an unquoted [::1]:8080 is a list: the error says to quote it.
  std::string v6 = errorOf(Config::fromYaml("http:\n  listen: [::1]:8080\n", {}));
  EXPECT_FALSE(v6.empty());
  TempFile bad_port("sip:\n  listen: [udp:0.0.0.0:70000]\n");
  EXPECT_NE(errorOf(Config::load(bad_port.path(), {})).find("sip.listen"), std::string::npos);
}

TEST(Config, FileErrors) {
  auto missing = Config::load("/nonexistent/switchboard.yaml", {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, common::ErrorCode::kIo);
  EXPECT_FALSE(Config::load(std::filesystem::temp_directory_path().string(), {}).has_value());
  TempFile broken("sip: [unclosed\n");
  EXPECT_NE(errorOf(Config::load(broken.path(), {})).find(broken.path()), std::string::npos);
  TempFile not_a_map("- just\n- a list\n");
  EXPECT_FALSE(Config::load(not_a_map.path(), {}).has_value());
}

TEST(Config, ListenSpecParseAndPrint) {
  auto v6 = ListenSpec::parse("wss:[2001:db8::1]:443");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(*v6, (ListenSpec{"wss", "2001:db8::1", 443}));
  EXPECT_EQ(v6->toString(), "wss:[2001:db8::1]:443");
  auto name = ListenSpec::parse("tcp:sip.example.com:5060");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->host, "sip.example.com");
  for (const char* bad : {"", "udp", "udp:", "udp::5060", "udp:[]:5060", "udp:[::1]5060",
                          "udp:host:", "udp:host:5060x", "udp:ho st:5060", "sctp:h:5060"}) {
    EXPECT_FALSE(ListenSpec::parse(bad).has_value()) << bad;
  }
  auto hp = common::HostPort::parse("[::1]:8080");
  ASSERT_TRUE(hp.has_value());
  EXPECT_EQ(hp->toString(), "[::1]:8080");
}

TEST(Config, DumpYamlLoadsBackTheSame) {
  auto c = Config::load("", {"sip.listen=udp:127.0.0.1:5070,tcp:[::1]:5071", "sip.workers=2",
                             "http.listen=[::1]:8080", "data_dir=/tmp/sb data"});
  ASSERT_TRUE(c.has_value()) << c.error().reason;
  std::string yaml = c->dumpYaml();
  EXPECT_NE(yaml.find("data_dir: /tmp/sb data\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("sip:\n  listen:\n    - udp:127.0.0.1:5070\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  max_message_bytes: 65536\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("url: sqlite:/tmp/sb data/switchboard.db"), std::string::npos) << yaml;
  TempFile file(yaml);
  auto again = Config::load(file.path(), {});
  ASSERT_TRUE(again.has_value()) << again.error().reason << "\n" << yaml;
  EXPECT_EQ(again->dumpYaml(), yaml);
  EXPECT_EQ(again->sip().listen, c->sip().listen);
  EXPECT_EQ(again->http().listen, c->http().listen);
  EXPECT_EQ(again->store().url, c->store().url);

  // The defaults (workers 0, noted with the resolved count) and an empty list also survive.
  auto d = Config::load("", {"sip.listen=[]"});
  ASSERT_TRUE(d.has_value());
  std::string dumped = d->dumpYaml();
  EXPECT_NE(dumped.find("workers: 0"), std::string::npos) << dumped;
  auto d2 = Config::fromYaml(dumped, {});
  ASSERT_TRUE(d2.has_value()) << d2.error().reason << "\n" << dumped;
  EXPECT_EQ(d2->dumpYaml(), dumped);
  EXPECT_TRUE(d2->sip().listen.empty());
}

// Sections ("sip", later "sip.tls") of the keys, outermost first.
std::vector<std::string> sectionsOf(std::string_view key) {
  std::vector<std::string> out;
  for (size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.', dot + 1))
    out.emplace_back(key.substr(0, dot));
  return out;
}

// The documented example shows every default, so loading it changes nothing.
TEST(Config, ExampleFileIsTheDefaults) {
  auto example = Config::load(SB_SOURCE_DIR "/config/switchboard.example.yaml", {});
  ASSERT_TRUE(example.has_value()) << example.error().reason;
  auto defaults = Config::defaults();
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(example->dumpYaml(), defaults->dumpYaml());
  // ... and documents every key (a new key must be added to the example too).
  std::ifstream in(SB_SOURCE_DIR "/config/switchboard.example.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const Config::KeyInfo& k : Config::keys()) {
    std::string leaf(k.key.substr(k.key.rfind('.') + 1));  // npos + 1 == 0
    EXPECT_NE(text.find("\n" + std::string(sectionsOf(k.key).size() * 2, ' ') + leaf + ":"),
              std::string::npos)
        << k.key << " is not in the example configuration";
  }
}

TEST(Config, KeyTableIsWellFormed) {
  std::vector<std::string> finished;  // sections already closed by a key outside them
  std::vector<std::string> open;
  for (const Config::KeyInfo& k : Config::keys()) {
    EXPECT_FALSE(k.help.empty()) << k.key;
    EXPECT_FALSE(k.key.empty());
    std::vector<std::string> sections = sectionsOf(k.key);
    for (const std::string& s : open) {
      if (std::find(sections.begin(), sections.end(), s) == sections.end()) finished.push_back(s);
    }
    // dumpYaml opens each section once, so a section's keys must be adjacent.
    for (const std::string& s : sections) {
      EXPECT_EQ(std::find(finished.begin(), finished.end(), s), finished.end())
          << "keys of section '" << s << "' are not adjacent at " << k.key;
    }
    open = sections;
    if (k.kind == Config::Kind::kInt) {
      EXPECT_LT(k.min, k.max) << k.key;
    }
  }
}

TEST(Strings, ParseUintBounds) {
  EXPECT_EQ(common::parseUint("0068", 255).value_or(0), 68u);
  EXPECT_FALSE(common::parseUint("256", 255).has_value());
  EXPECT_FALSE(common::parseUint("18446744073709551616", UINT64_MAX).has_value());
  EXPECT_EQ(common::parseUint("18446744073709551615", UINT64_MAX).value_or(0), UINT64_MAX);
  EXPECT_FALSE(common::parseUint("", 10).has_value());
  EXPECT_FALSE(common::parseUint("1a", 100).has_value());
}

TEST(Result, ValueAndError) {
  common::Result<int> ok = 5;
  EXPECT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 5);
  common::Result<int> err = common::makeError(common::ErrorCode::kNotFound, "gone", 404);
  EXPECT_FALSE(err);
  EXPECT_EQ(err.error().status, 404);
  EXPECT_EQ(err.value_or(7), 7);
  common::Status st;
  EXPECT_TRUE(st.has_value());
  common::Status bad = common::makeError(common::ErrorCode::kIo, "disk");
  EXPECT_EQ(bad.error().reason, "disk");
}

}  // namespace
