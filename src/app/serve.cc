#include "app/serve.h"

#include <pthread.h>

#include <chrono>
#include <csignal>
#include <iostream>

#include "api/http_server.h"
#include "api/rest_api.h"
#include "api/secrets.h"
#include "app/options.h"
#include "app/sip_domain_ownership.h"
#include "app/sip_edge.h"
#include "app/sms_gateway.h"
#include "common/address_set.h"
#include "common/config.h"
#include "common/log.h"
#include "common/private_files.h"
#include "store/store.h"

namespace {

// Blocks SIGTERM and SIGINT in the calling thread. Done before any thread starts, so every
// later thread inherits the mask and only sigwait() in waitForStop() takes these signals.
sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int waitForStop(const sigset_t& set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

}  // namespace

int runServe(const std::vector<std::string>& args) {
  auto opts = parseConfigOptions(args, {"--check"});
  if (!opts) {
    std::cerr << "switchboard serve: " << opts.error().reason << "\n";
    return 2;
  }
  if (!opts->positional.empty()) {
    std::cerr << "switchboard serve: unexpected argument '" << opts->positional.front() << "'\n";
    return 2;
  }
  auto cfg = common::Config::load(opts->config_file, opts->overrides);
  if (!cfg) {
    std::cerr << "switchboard serve: " << cfg.error().reason << "\n";
    return 2;
  }
  // Config validated both names; the fallbacks are never taken.
  common::log::setup(
      common::log::parseLevel(cfg->log().level).value_or(common::log::Level::kInfo),
      common::log::parseFormat(cfg->log().format).value_or(common::log::Format::kText));

  const bool check_only = opts->flags.count("--check") > 0;
  sigset_t stop = blockStopSignals();
  if (!check_only) {
    // Before printing: scripts wait for the printed configuration, then expect data_dir.
    if (auto st = common::preparePrivateDirectory(cfg->dataDir(), "data directory"); !st) {
      std::cerr << "switchboard serve: " << st.error().reason << "\n";
      return 1;
    }
  }
  if (check_only) {
    std::cout << "# switchboard configuration (checked)\n" << cfg->dumpYaml() << std::flush;
    return 0;
  }
  auto fail = [](const std::string& why) {
    std::cerr << "switchboard serve: " << why << "\n";
    return 1;
  };
  auto store = store::Store::open(cfg->store().url);
  if (!store) return fail(store.error().reason);
  auto master_key = api::MasterKey::load(cfg->masterKey(), cfg->dataDir());
  if (!master_key) return fail(master_key.error().reason);
  // Before the API and the edge serve anyone: the configured names are the operator's, so no
  // account creates a SIP Domain on one, and only the operator's credentials authenticate
  // there (the edge looks up the owner's rows only).
  if (auto st = claimConfiguredDomains(*cfg, **store,
                                       std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
      !st)
    return fail("sip domain owners: " + st.error().reason);

  // The edge outlives the SMS carriers (SIP MESSAGE goes through it): built first, stopped last.
  SipEdge edge(*cfg, **store);
  auto sms_gateway = SmsGateway::create(*cfg, **store, *master_key, &edge.messageSender());
  if (!sms_gateway) return fail(sms_gateway.error().reason);
  SmsGateway& sms = **sms_gateway;
  if (auto st = sms.start(); !st) return fail(st.error().reason);
  api::RestApi::Options ro;
  ro.messaging = &sms.service();
  auto allow = cfg->getList("webhooks.allow");
  if (!allow) return fail(allow.error().reason);
  auto targets = api::WebhookTargetPolicy::create(*allow);
  if (!targets) return fail("webhooks.allow: " + targets.error().reason);
  ro.webhook_targets = std::move(*targets);
  ro.auth.legacy_checks_per_second = unsigned(cfg->getInt("api.legacy_key_checks").value());
  ro.audit.failure_window = std::chrono::seconds(cfg->getInt("api.audit_failure_window").value());
  api::RestApi rest(**store, *master_key, std::move(ro));
  const common::HttpConfig& hc = cfg->http();
  api::HttpServer::Options ho;
  ho.listeners.push_back({hc.listen, false});
  if (!hc.tls_certificate.empty()) ho.listeners.push_back({hc.tls_listen, true});
  ho.threads = hc.threads;
  ho.max_body_bytes = hc.max_body_bytes;
  ho.tls_certificate = hc.tls_certificate;
  ho.tls_key = hc.tls_key;
  ho.allow_plain_remote = hc.allow_plain_remote;
  ho.max_connections_per_address = hc.max_connections_per_address;
  ho.max_requests_per_connection = hc.max_requests_per_connection;
  // Config validated the list; parse() cannot fail here.
  ho.trusted_proxies = common::AddressSet::parse(hc.trusted_proxies).value();
  ho.error_reply = &api::RestApi::protocolError;
  api::HttpServer http(std::move(ho), [&rest](api::HttpRequest& r) { return rest.handle(r); });
  if (auto st = http.start(); !st) return fail(st.error().reason);

  edge.setInboundMessageHook(
      [&sms](const edge::InboundMessageInfo& m, std::function<void(int)> respond) {
        sms.service().onInbound(
            {m.trunk, m.from, m.to, m.body, 1},
            [respond = std::move(respond)](bool stored) { respond(stored ? 202 : 500); });
      });
  if (auto st = edge.start(); !st) return fail(st.error().reason);
  std::cout << "# switchboard resolved configuration\n" << cfg->dumpYaml();
  for (const std::string& l : edge.listening()) std::cout << "# sip listening: " << l << "\n";
  for (const std::string& l : http.listening()) std::cout << "# http listening: " << l << "\n";
  for (const std::string& t : sms.trunks()) std::cout << "# sms trunk: " << t << "\n";
  std::cout << "# active parts: sip edge (registrar, digest auth, proxy), REST API (accounts, "
               "numbers, keys, users, audit, messages), messaging (SMPP, SIP MESSAGE)\n"
            << std::flush;

  SB_LOG(kInfo, "serve: running with data_dir " + cfg->dataDir() + "; SIGTERM or SIGINT stops it");
  int sig = waitForStop(stop);
  SB_LOG(kInfo, std::string("serve: stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
  http.stop();
  sms.stop();
  edge.stop();
  auto hs = http.stats();
  auto rs = rest.stats();
  SB_LOG(kInfo, "http: " + std::to_string(hs.connections) + " connections, " +
                    std::to_string(hs.requests) + " requests, " + std::to_string(hs.bad_requests) +
                    " refused unparsed, " + std::to_string(hs.refused_connections) +
                    " connections refused and " + std::to_string(hs.evicted_connections) +
                    " idle ones closed at the per-address cap, " +
                    std::to_string(rs.auth_failures) + " authentication failures, " +
                    std::to_string(rs.client_errors) + " 4xx, " + std::to_string(rs.server_errors) +
                    " 5xx");
  return 0;
}
