// WebhookClient: the outbound HTTP(S) client behind every webhook the platform sends (voice
// TwiML fetches, SMS webhooks, status callbacks). Requests are signed as Twilio signs them
// (X-Twilio-Signature), run on the client's own I/O threads (never the caller's), are bounded
// in time, response size and queue length, and are retried with jittered exponential backoff
// when the caller asks for it (status callbacks).
//
//   api::WebhookClient client({.threads = 1, .request_timeout = std::chrono::seconds(15)});
//   api::WebhookRequest req;
//   req.url = number.voice_url;                      // http:// or https://
//   req.params = {{"CallSid", sid}, {"From", from}, {"To", to}};
//   req.auth_token = account.auth_token;             // empty: not signed
//   client.send(std::move(req), [&loop](api::WebhookResult r) {
//     loop.post([r = std::move(r)] { onTwiml(r); });  // runs on a client thread: hop back
//   });
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/webhook_signature.h"
#include "api/webhook_target_policy.h"
#include "common/result.h"

namespace api {

namespace internal {
struct WebhookClientCore;  // the io_context, threads, TLS context and pending requests
}

struct WebhookRequest {
  std::string method = "POST";  // "POST" (form body) or "GET" (params in the query)
  std::string url;              // http:// or https://, signed exactly as given
  FormParams params;
  std::string auth_token;  // signs the request (X-Twilio-Signature); empty = unsigned
  bool retry = false;      // retry on no answer, timeout, 5xx and 429 (status callbacks)
  // Extra headers. Host, Content-Length, Transfer-Encoding, Connection and
  // X-Twilio-Signature belong to the client; naming one makes the request invalid.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct WebhookResult {
  int status = 0;  // the HTTP status of the last answer; 0 = no usable answer (see error)
  std::string body;
  std::string content_type;
  int attempts = 0;   // requests put on the wire (0 when refused before sending)
  std::string error;  // why there is no answer; empty exactly when status != 0

  bool ok() const { return status >= 200 && status < 300; }
};

using WebhookCallback = std::function<void(WebhookResult)>;

// The seam voice and messaging hold, so that their tests can answer webhooks with a fake.
class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  // Calls `done` exactly once with the outcome of `request`.
  virtual void send(WebhookRequest request, WebhookCallback done) = 0;
};

// A webhook URL taken apart; what parseWebhookUrl accepts is what the client can call.
struct WebhookUrl {
  bool tls = false;         // https
  std::string host;         // without the [] of an IPv6 literal
  bool ip_literal = false;  // host is an IPv4 or IPv6 address: no DNS, no SNI
  uint16_t port = 0;        // the default port of the scheme when the URL has none
  std::string target;       // path and query as sent in the request line; at least "/"
  std::string host_header;  // host (bracketed if IPv6) plus ":port" when not the default
};

// http or https, a host name, IPv4 or [IPv6] address, an optional port, then path and query
// (a fragment is dropped). kInvalidArgument for anything else, e.g. another scheme,
// credentials (user:password@), or bytes in the path that must be percent-encoded. The API
// can use it to check a VoiceUrl or StatusCallback when it is configured.
common::Result<WebhookUrl> parseWebhookUrl(std::string_view url);

// One HTTP/1.1 connection per request (Connection: close), over TLS for https with SNI and
// peer verification (chain and host name) on by default. Every attempt checks the host, then
// each address it resolves to, against the target policy before connecting (so DNS
// rebinding, localhost and numeric hosts such as 2130706433 are covered); redirects are not
// followed. The client owns its io_context and
// threads; send() only queues, so it is safe from any thread, SIP workers included.
class WebhookClient final : public WebhookSender {
 public:
  struct Options {
    size_t threads = 1;  // I/O threads running the requests (at least 1)
    // Resolve + TCP connect + TLS handshake, per attempt.
    std::chrono::milliseconds connect_timeout{5000};
    // The whole attempt, connect included, until the last byte of the response body.
    std::chrono::milliseconds request_timeout{15000};
    int max_attempts = 3;  // in total, for requests with retry set
    // Before attempt n+1 the client waits a random time in [0, min(max, first * 2^(n-1))].
    std::chrono::milliseconds first_backoff{500};
    std::chrono::milliseconds max_backoff{30000};
    size_t max_response_bytes = 1 << 20;  // a larger body fails the request
    std::string ca_file;                  // PEM CAs trusted besides the system's
    bool verify_peer = true;              // false: any certificate is accepted
    std::string user_agent = "Switchboard/0.1";
    size_t max_pending = 10000;  // requests queued or in flight (at least 1)
    // Where requests may go (webhooks.allow); the default refuses every non-public address.
    WebhookTargetPolicy targets;
  };

  struct Stats {
    uint64_t sent = 0;       // requests accepted: succeeded + failed + pending
    uint64_t succeeded = 0;  // ended with a 2xx answer
    uint64_t failed = 0;     // ended with no answer or a non-2xx one
    uint64_t retried = 0;    // attempts after the first
    uint64_t rejected = 0;   // refused: queue full, client stopping, TLS unavailable
    uint64_t invalid = 0;    // refused: bad URL, method or header
    uint64_t pending = 0;    // accepted and not yet ended
    // Of `failed`: no address the target policy admits (webhooks.allow), nothing sent.
    uint64_t refused = 0;
  };

  // Starts the threads. When the TLS settings cannot be applied (e.g. ca_file unreadable)
  // the client still works for http and refuses https; tlsStatus() says why.
  explicit WebhookClient(Options options);
  // Cancels every pending request, waits until each one's `done` has been called (with
  // status 0 and a "cancelled" error), then joins the threads. Must not run on a client
  // thread, i.e. not from a `done` callback.
  ~WebhookClient() override;
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  // Thread-safe. A request that is refused (queue full, client stopping, invalid URL,
  // method or header) gets `done` called before send() returns, on the caller's thread,
  // with status 0 and the reason ("queue full" when max_pending requests are pending);
  // nothing is sent. Otherwise `done` runs later on a client thread: it should only hand
  // the result over (post it to the caller's loop), as it holds up that thread meanwhile.
  void send(WebhookRequest request, WebhookCallback done) override;

  Stats stats() const;
  common::Status tlsStatus() const;

 private:
  std::unique_ptr<internal::WebhookClientCore> core_;
};

}  // namespace api
