// Messaging as `serve` runs it: the messaging service over the store, its carriers built from
// the SMS trunks in the store (SMPP binds, passwords opened with the master key), and its
// webhooks sent by the API's WebhookClient, signed with each account's auth token.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/secrets.h"
#include "api/webhook_target_policy.h"
#include "common/config.h"
#include "common/result.h"
#include "messaging/service.h"
#include "messaging/sip_message_carrier.h"
#include "store/store.h"

class SmsGateway {
 public:
  // `store`, `key` and `sip` (the edge's MESSAGE sender; null = no SIP trunks) outlive the
  // gateway. Fails when messaging.dlr_table names a file that cannot be read or parsed. Its
  // webhooks go where webhooks.allow lets them (api::WebhookTargetPolicy).
  static common::Result<std::unique_ptr<SmsGateway>> create(const common::Config& config,
                                                            store::Store& store,
                                                            const api::MasterKey& key,
                                                            messaging::SipMessageSender* sip);
  ~SmsGateway();
  SmsGateway(const SmsGateway&) = delete;
  SmsGateway& operator=(const SmsGateway&) = delete;

  // Reads the SMS trunks, reloads the unfinished messages and starts sending.
  common::Status start();
  void stop();  // idempotent
  messaging::Service& service();
  // One line per trunk: "smsc smpp 127.0.0.1:2775 (prefixes: default)".
  std::vector<std::string> trunks() const;

 private:
  SmsGateway(store::Store& store, const api::MasterKey& key, messaging::SipMessageSender* sip,
             messaging::ServiceOptions options, api::WebhookTargetPolicy targets);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
