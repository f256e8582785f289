#include "app/sms_gateway.h"

#include <fstream>
#include <iterator>
#include <mutex>
#include <unordered_map>

#include "api/provisioning.h"
#include "api/webhook_client.h"
#include "common/log.h"
#include "messaging/smpp_carrier.h"

namespace {

// messaging::Webhooks over the API's client: the account's auth token (kept sealed in the
// store) signs every request. Tokens are cached for a minute, so a rotated token signs from
// then on.
class SignedWebhooks final : public messaging::Webhooks {
 public:
  SignedWebhooks(store::Store& store, const api::MasterKey& key, api::WebhookTargetPolicy targets)
      : store_(store), provisioning_(store, key), client_(clientOptions(std::move(targets))) {}

  void send(Request request, std::function<void(Reply)> done) override {
    api::WebhookRequest r;
    r.method = request.method;
    r.url = std::move(request.url);
    r.params = std::move(request.params);
    r.retry = request.retry;
    r.auth_token = token(request.account_sid);
    client_.send(std::move(r), [done = std::move(done)](api::WebhookResult res) {
      done(Reply{res.status, std::move(res.body), std::move(res.content_type),
                 std::move(res.error)});
    });
  }

  api::WebhookClient::Stats stats() const { return client_.stats(); }

 private:
  static api::WebhookClient::Options clientOptions(api::WebhookTargetPolicy targets) {
    api::WebhookClient::Options o;
    o.targets = std::move(targets);
    return o;
  }

  // As long as the API's credential cache: after a token promotion, webhooks are signed with
  // the new primary within the same few seconds the old one stops working.
  static constexpr std::chrono::seconds kTokenCacheTtl{5};

  std::string token(const std::string& account_sid) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      auto it = tokens_.find(account_sid);
      if (it != tokens_.end() && now - it->second.second < kTokenCacheTtl) return it->second.first;
    }
    std::string token;
    auto account = store_.accounts().find(account_sid);
    if (account && *account) token = provisioning_.authToken(**account);
    if (token.empty())
      SB_LOG(kWarn, "sms: no auth token for " + account_sid + "; its webhook goes unsigned");
    std::lock_guard lock(mu_);
    tokens_[account_sid] = {token, now};
    return token;
  }

  store::Store& store_;
  api::Provisioning provisioning_;  // opens the sealed tokens
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>>
      tokens_;
  api::WebhookClient client_;  // last: destroyed (and drained) first
};

}  // namespace

struct SmsGateway::Impl {
  Impl(store::Store& s, const api::MasterKey& k, messaging::SipMessageSender* sip_sender,
       messaging::ServiceOptions o, api::WebhookTargetPolicy targets)
      : store(s),
        key(k),
        sip(sip_sender),
        service(s, &webhooks, std::move(o)),
        webhooks(s, k, std::move(targets)) {}
  store::Store& store;
  const api::MasterKey& key;
  messaging::SipMessageSender* sip;
  // The service holds a pointer to the webhooks and is declared first, so it is destroyed
  // last: the webhook client drains its pending requests (their callbacks reach the service)
  // while the service still exists.
  messaging::Service service;
  SignedWebhooks webhooks;
  std::vector<std::string> described;
  bool started = false;
};

common::Result<std::unique_ptr<SmsGateway>> SmsGateway::create(const common::Config& config,
                                                               store::Store& store,
                                                               const api::MasterKey& key,
                                                               messaging::SipMessageSender* sip) {
  messaging::ServiceOptions o;
  auto path = config.getString("messaging.dlr_table");
  if (path && !path->empty()) {
    std::ifstream in(*path);
    if (!in)
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "messaging.dlr_table: cannot read " + *path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto table = messaging::DlrTable::parse(text);
    if (!table)
      return common::makeError(common::ErrorCode::kInvalidArgument,
                               "messaging.dlr_table " + *path + ": " + table.error().reason);
    o.dlr = std::move(*table);
  }
  auto allow = config.getList("webhooks.allow");
  if (!allow) return allow.error();
  auto targets = api::WebhookTargetPolicy::create(*allow);
  if (!targets)
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "webhooks.allow: " + targets.error().reason);
  return std::unique_ptr<SmsGateway>(
      new SmsGateway(store, key, sip, std::move(o), std::move(*targets)));
}

SmsGateway::SmsGateway(store::Store& store, const api::MasterKey& key,
                       messaging::SipMessageSender* sip, messaging::ServiceOptions options,
                       api::WebhookTargetPolicy targets)
    : impl_(std::make_unique<Impl>(store, key, sip, std::move(options), std::move(targets))) {}

SmsGateway::~SmsGateway() {
  stop();
}

common::Status SmsGateway::start() {
  auto trunks = impl_->store.messagingSettings().listTrunks();
  if (!trunks) return trunks.error();
  for (const store::SmsTrunk& t : *trunks) {
    std::string prefixes;
    for (const std::string& p : t.prefixes) prefixes += (prefixes.empty() ? "" : ",") + p;
    if (t.kind == "sip") {
      if (!impl_->sip) {
        SB_LOG(kWarn, "sms: trunk " + t.name + " needs the SIP edge, which is not running");
        continue;
      }
      impl_->service.addCarrier(
          std::make_unique<messaging::SipMessageCarrier>(
              messaging::SipMessageCarrierOptions{t.name, t.address, size_t(t.window)},
              *impl_->sip),
          t.prefixes);
      impl_->described.push_back(t.name + " sip MESSAGE via trunk " + t.address +
                                 " (prefixes: " + (prefixes.empty() ? "default" : prefixes) + ")");
      continue;
    }
    if (t.kind != "smpp") {
      SB_LOG(kWarn, "sms: trunk " + t.name + " of kind " + t.kind + " is not supported yet");
      continue;
    }
    auto hp = common::HostPort::parse(t.address);
    if (!hp) return hp.error();
    auto password = impl_->key.open(t.password_sealed, "sms-trunk:" + t.name);
    if (!password)
      return common::makeError(
          common::ErrorCode::kInvalidArgument,
          "sms trunk " + t.name + ": the bind password does not open under this master key");
    messaging::SmppCarrierOptions o;
    o.name = t.name;
    o.host = hp->host;
    o.port = hp->port;
    o.system_id = t.system_id;
    o.password = *password;
    o.system_type = t.system_type;
    o.window = size_t(t.window);
    o.max_per_second = uint32_t(t.max_per_second);
    impl_->service.addCarrier(std::make_unique<messaging::SmppCarrier>(std::move(o)), t.prefixes);
    impl_->described.push_back(t.name + " smpp " + t.address +
                               " (prefixes: " + (prefixes.empty() ? "default" : prefixes) + ")");
  }
  if (auto st = impl_->service.start(); !st) return st;
  impl_->started = true;
  return {};
}

void SmsGateway::stop() {
  if (!impl_->started) return;
  impl_->service.stop();
  auto s = impl_->service.stats();
  SB_LOG(kInfo, "sms: " + std::to_string(s.accepted) + " accepted, " + std::to_string(s.refused) +
                    " refused, " + std::to_string(s.sent) + " sent, " +
                    std::to_string(s.delivered) + " delivered, " + std::to_string(s.undelivered) +
                    " undelivered, " + std::to_string(s.failed) + " failed, " +
                    std::to_string(s.inbound) + " inbound, " + std::to_string(s.queued) +
                    " still queued, " +
                    "resent_unacknowledged=" + std::to_string(s.resent_unacknowledged));
  auto w = impl_->webhooks.stats();
  SB_LOG(kInfo, "webhooks: " + std::to_string(w.sent) + " sent, " + std::to_string(w.succeeded) +
                    " succeeded, " + std::to_string(w.failed) + " failed (" +
                    std::to_string(w.refused) + " refused by the target policy, webhooks.allow), " +
                    std::to_string(w.retried) + " retries, " + std::to_string(w.invalid) +
                    " invalid, " + std::to_string(w.rejected) + " rejected");
  impl_->started = false;
}

messaging::Service& SmsGateway::service() {
  return impl_->service;
}

std::vector<std::string> SmsGateway::trunks() const {
  return impl_->described;
}
