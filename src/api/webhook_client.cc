#include "api/webhook_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "api/form.h"
#include "common/log.h"
#include "common/strings.h"

namespace api {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Strand = asio::strand<asio::io_context::executor_type>;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kMaxResponseHeaderBytes = 16 * 1024;

// `url` with the params added to its query string (before any fragment).
std::string withQueryParams(std::string_view url, const FormParams& params) {
  if (params.empty()) return std::string(url);
  const size_t hash = url.find('#');
  std::string out(url.substr(0, hash));
  if (out.find('?') == std::string::npos) {
    out.push_back('?');
  } else if (out.back() != '?' && out.back() != '&') {
    out.push_back('&');
  }
  out += encodeForm(params);
  if (hash != std::string_view::npos) out += url.substr(hash);
  return out;
}

bool validHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return common::isAlpha(c) || common::isDigit(c) || c == '-' || c == '.' || c == '_';
  });
}

// RFC 9110 tchar.
bool validHeaderName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return common::isAlpha(c) || common::isDigit(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// No CR, LF or other control characters: a value must not be able to add a header.
bool validHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return (uint8_t(c) < 0x20 && c != '\t') || c == 0x7F; });
}

bool reservedHeader(std::string_view name) {
  for (std::string_view r :
       {"Host", "Content-Length", "Transfer-Encoding", "Connection", "X-Twilio-Signature"}) {
    if (common::iequals(name, r)) return true;
  }
  return false;
}

// A request ready for the wire: where it goes and its bytes.
struct Prepared {
  WebhookUrl url;
  http::request<http::string_body> request;
  std::string label;  // "POST http://host:port/path" for log lines
};

common::Result<Prepared> prepare(const WebhookRequest& in, const WebhookClient::Options& opts) {
  using common::ErrorCode;
  const bool get = common::iequals(in.method, "GET");
  if (!get && !common::iequals(in.method, "POST")) {
    return common::makeError(ErrorCode::kUnsupported,
                             "unsupported webhook method \"" + in.method + "\" (GET or POST)");
  }
  // A GET carries the params in its query and is signed over that URL with no params (what
  // Twilio's validateRequest checks); a POST is signed over the URL as given and the params.
  const std::string full_url = get ? withQueryParams(in.url, in.params) : in.url;
  auto url = parseWebhookUrl(full_url);
  if (!url) return url.error();

  Prepared p;
  p.request.method(get ? http::verb::get : http::verb::post);
  p.request.target(url->target);
  p.request.version(11);
  p.request.set(http::field::host, url->host_header);
  p.request.set(http::field::user_agent, opts.user_agent);
  p.request.set(http::field::accept, "*/*");
  p.request.set(http::field::connection, "close");
  if (!get) {
    p.request.set(http::field::content_type, "application/x-www-form-urlencoded");
    p.request.body() = encodeForm(in.params);
  }
  if (!in.auth_token.empty()) {
    p.request.set("X-Twilio-Signature", get ? twilioSignature(in.auth_token, full_url, {})
                                            : twilioSignature(in.auth_token, in.url, in.params));
  }
  for (const auto& [name, value] : in.headers) {
    if (!validHeaderName(name) || !validHeaderValue(value)) {
      return common::makeError(ErrorCode::kInvalidArgument,
                               "invalid webhook header \"" + name + "\": bad characters");
    }
    if (reservedHeader(name)) {
      return common::makeError(ErrorCode::kInvalidArgument,
                               "webhook header \"" + name + "\" is set by the client");
    }
    p.request.set(name, value);  // may replace User-Agent, Accept or Content-Type
  }
  p.request.prepare_payload();
  p.label = std::string(get ? "GET " : "POST ") + (url->tls ? "https://" : "http://") +
            url->host_header + url->target;
  p.url = std::move(*url);
  return p;
}

// One connection attempt and what its asynchronous operations use. Handlers hold it by
// shared_ptr, so when an attempt is abandoned (timeout, cancel) its sockets and buffers stay
// alive until the aborted operations have completed.
struct Attempt {
  Attempt(const Strand& strand, ssl::context* tls, const http::request<http::string_body>& req,
          size_t max_body)
      : resolver(strand), request(req), body_limit(max_body) {
    if (tls != nullptr) {
      secure.emplace(strand, *tls);
    } else {
      plain.emplace(strand);
    }
    newParser();
  }

  tcp::socket& socket() { return secure ? secure->next_layer() : *plain; }
  template <typename F>
  void withStream(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }
  void newParser() {
    parser.emplace();
    parser->body_limit(body_limit);
    parser->header_limit(kMaxResponseHeaderBytes);
  }
  void close() {
    resolver.cancel();
    error_code ec;
    socket().close(ec);
  }

  tcp::resolver resolver;
  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> secure;
  http::request<http::string_body> request;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::string_body>> parser;
  size_t body_limit;
};

class Exchange;

}  // namespace

namespace internal {

struct WebhookClientCore {
  explicit WebhookClientCore(WebhookClient::Options o);

  // Counts the end of a request and forgets it.
  void ended(uint64_t id, bool ok);
  // The wait before the attempt after `failed` failed attempts: full jitter.
  std::chrono::milliseconds backoff(int failed);

  WebhookClient::Options opts;
  std::unique_ptr<ssl::context> tls;  // null when it could not be set up; tls_error says why
  std::string tls_error;
  // Declared after `tls`, so destroyed first, with any stream its leftover handlers own.
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;

  mutable std::mutex mu;
  std::condition_variable idle;  // `pending` became empty
  bool stopping = false;
  // The requests not ended yet. Each Exchange is also held by its own handlers; this map
  // lets the destructor find and cancel them.
  std::unordered_map<uint64_t, std::shared_ptr<Exchange>> pending;
  uint64_t next_id = 1;

  std::mutex rng_mu;
  std::minstd_rand rng{std::random_device{}()};

  // Logs a refused delivery at most once per host per minute.
  void logRefusal(const std::string& host, const std::string& label, const std::string& why);

  std::atomic<uint64_t> sent{0}, succeeded{0}, failed{0}, retried{0}, rejected{0}, invalid{0},
      refused{0};

  std::mutex refusal_log_mu;
  std::unordered_map<std::string, Clock::time_point> refusal_logged;  // host -> last line
};

}  // namespace internal

namespace {

// One webhook request from send() to `done`: its attempts, the backoff between them and
// its deadline timer. Everything here runs on its strand.
class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(internal::WebhookClientCore& core, uint64_t id, Prepared&& p, bool retry,
           WebhookCallback&& done)
      : core_(core),
        id_(id),
        strand_(asio::make_strand(core.ioc)),
        timer_(strand_),
        url_(std::move(p.url)),
        request_(std::move(p.request)),
        label_(std::move(p.label)),
        retry_(retry),
        done_(std::move(done)) {
    peer_ = (url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host) + ":" +
            std::to_string(url_.port);
  }

  const Strand& strand() const { return strand_; }

  void start() {
    if (!finished_) startAttempt();
  }

  void cancel() {
    if (finished_) return;
    WebhookResult r;
    r.error = "cancelled: the webhook client is shutting down";
    if (!last_error_.empty()) r.error += " (last attempt: " + last_error_ + ")";
    finish(std::move(r));
  }

 private:
  enum class Phase { kConnecting, kExchanging, kBackoff };
  using AttemptPtr = std::shared_ptr<Attempt>;

  bool current(const AttemptPtr& a) const { return !finished_ && a == attempt_; }

  void startAttempt() {
    if (attempts_ > 0) core_.retried.fetch_add(1, std::memory_order_relaxed);
    ++attempts_;
    auto a = std::make_shared<Attempt>(strand_, url_.tls ? core_.tls.get() : nullptr, request_,
                                       core_.opts.max_response_bytes);
    attempt_ = a;
    const auto now = Clock::now();
    deadline_ = now + core_.opts.request_timeout;
    arm(Phase::kConnecting, std::min(deadline_, now + core_.opts.connect_timeout));

    if (isCloudMetadataName(url_.host)) return refused(url_.host + " is a cloud metadata service");
    if (url_.ip_literal) {
      error_code ec;
      auto address = asio::ip::make_address(url_.host, ec);  // checked by parseWebhookUrl
      if (auto why = core_.opts.targets.refusal(address)) return refused(*why);
      connect(a, std::vector<tcp::endpoint>{tcp::endpoint(address, url_.port)});
      return;
    }
    // Names, and the numeric forms getaddrinfo reads without DNS (2130706433, 0x7f.1).
    a->resolver.async_resolve(
        url_.host, std::to_string(url_.port), tcp::resolver::numeric_service,
        [self = shared_from_this(), a](const error_code& ec, tcp::resolver::results_type results) {
          if (!self->current(a)) return;
          if (ec)
            return self->attemptFailed("cannot resolve " + self->url_.host + ": " + ec.message(),
                                       true);
          // Each address, on each attempt: what the name resolves to now is what is called.
          std::vector<tcp::endpoint> admitted;
          std::string first_refusal;
          for (const auto& entry : results) {
            auto why = self->core_.opts.targets.refusal(entry.endpoint().address());
            if (!why) {
              admitted.push_back(entry.endpoint());
            } else if (first_refusal.empty()) {
              first_refusal = self->url_.host + " resolves to " + *why;
            }
          }
          if (admitted.empty()) return self->refused(first_refusal);
          self->connect(a, admitted);
        });
  }

  // No address the policy admits: the delivery fails at once, without retries (the next
  // attempt would resolve the same name under the same policy).
  void refused(const std::string& why) {
    core_.refused.fetch_add(1, std::memory_order_relaxed);
    --attempts_;  // nothing went on the wire
    // The origin only: a GET's query carries the message (From, To, Body).
    core_.logRefusal(url_.host,
                     std::string(request_.method_string()) + (url_.tls ? " https://" : " http://") +
                         url_.host_header,
                     why);
    attemptFailed("address refused: " + why +
                      "; webhooks go to public addresses only unless webhooks.allow admits it",
                  false);
  }

  template <typename Endpoints>
  void connect(const AttemptPtr& a, const Endpoints& endpoints) {
    asio::async_connect(a->socket(), endpoints,
                        [self = shared_from_this(), a](const error_code& ec, const tcp::endpoint&) {
                          if (!self->current(a)) return;
                          if (ec) {
                            return self->attemptFailed(
                                "connect to " + self->peer_ + " failed: " + ec.message(), true);
                          }
                          if (a->secure) {
                            self->handshake(a);
                          } else {
                            self->write(a);
                          }
                        });
  }

  void handshake(const AttemptPtr& a) {
    SSL* ssl = a->secure->native_handle();
    bool ok = true;
    if (!url_.ip_literal) {
      // SNI carries host names only (RFC 6066 §3).
      ok = SSL_set_tlsext_host_name(ssl, url_.host.c_str()) == 1;
    }
    if (ok && core_.opts.verify_peer) {
      // The chain is checked by the context; the name in the certificate is checked here.
      ok = url_.ip_literal
               ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url_.host.c_str()) == 1
               : SSL_set1_host(ssl, url_.host.c_str()) == 1;
    }
    if (!ok) return attemptFailed("TLS setup for " + url_.host + " failed", false);
    a->secure->async_handshake(ssl::stream_base::client, [self = shared_from_this(),
                                                          a](const error_code& ec) {
      if (!self->current(a)) return;
      if (!ec) return self->write(a);
      const long verify = SSL_get_verify_result(a->secure->native_handle());
      if (self->core_.opts.verify_peer && verify != X509_V_OK) {
        // A certificate we do not trust will not become trusted by retrying.
        return self->attemptFailed("TLS certificate of " + self->peer_ +
                                       " rejected: " + X509_verify_cert_error_string(verify),
                                   false);
      }
      self->attemptFailed("TLS handshake with " + self->peer_ + " failed: " + ec.message(), true);
    });
  }

  void write(const AttemptPtr& a) {
    arm(Phase::kExchanging, deadline_);
    a->withStream([&](auto& stream) {
      http::async_write(stream, a->request,
                        [self = shared_from_this(), a](const error_code& ec, size_t) {
                          if (!self->current(a)) return;
                          if (ec) {
                            return self->attemptFailed(
                                "sending to " + self->peer_ + " failed: " + ec.message(), true);
                          }
                          self->readHeader(a);
                        });
    });
  }

  // The header first, then the body. Beast 1.74's eager parsing (what http::async_read
  // turns on) does not enforce body_limit against a response's Content-Length, so the
  // length is checked here between the two reads.
  void readHeader(const AttemptPtr& a) {
    a->withStream([&](auto& stream) {
      http::async_read_header(stream, a->buffer, *a->parser,
                              [self = shared_from_this(), a](const error_code& ec, size_t) {
                                if (!self->current(a)) return;
                                if (ec) return self->readFailed(ec);
                                const int status = a->parser->get().result_int();
                                if (status >= 100 && status < 200 && status != 101) {
                                  a->newParser();  // an interim answer (103 Early Hints): skip it
                                  return self->readHeader(a);
                                }
                                const auto length = a->parser->content_length();
                                if (length && *length > self->core_.opts.max_response_bytes) {
                                  return self->readFailed(http::error::body_limit);
                                }
                                if (a->parser->is_done()) return self->answered(a);
                                self->readBody(a);
                              });
    });
  }

  void readBody(const AttemptPtr& a) {
    a->withStream([&](auto& stream) {
      http::async_read(stream, a->buffer, *a->parser,
                       [self = shared_from_this(), a](const error_code& ec, size_t) {
                         if (!self->current(a)) return;
                         if (ec) return self->readFailed(ec);
                         self->answered(a);
                       });
    });
  }

  void readFailed(const error_code& ec) {
    if (ec == http::error::body_limit) {
      return attemptFailed("response body from " + peer_ + " exceeds " +
                               std::to_string(core_.opts.max_response_bytes) + " bytes",
                           false);
    }
    if (ec == http::error::header_limit) {
      return attemptFailed("response header from " + peer_ + " exceeds " +
                               std::to_string(kMaxResponseHeaderBytes) + " bytes",
                           false);
    }
    if (ec == http::error::end_of_stream) {
      return attemptFailed(peer_ + " closed the connection without answering", true);
    }
    if (ec == http::error::partial_message) {
      return attemptFailed(peer_ + " closed the connection in the middle of the response", true);
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      return attemptFailed("malformed HTTP response from " + peer_ + ": " + ec.message(), false);
    }
    attemptFailed("reading the response from " + peer_ + " failed: " + ec.message(), true);
  }

  void answered(const AttemptPtr& a) {
    auto& msg = a->parser->get();
    if (msg.body().size() > core_.opts.max_response_bytes) {
      return readFailed(http::error::body_limit);  // whatever path the parser took
    }
    WebhookResult r;
    r.status = msg.result_int();
    r.content_type = std::string(msg[http::field::content_type]);
    r.body = std::move(msg.body());
    closeAttempt();
    if (retry_ && (r.status == 429 || (r.status >= 500 && r.status < 600)) &&
        attempts_ < core_.opts.max_attempts) {
      last_error_ = "HTTP " + std::to_string(r.status);
      return retryLater();
    }
    finish(std::move(r));
  }

  void attemptFailed(std::string why, bool retryable) {
    closeAttempt();
    SB_LOG(kDebug,
           "webhook: " + label_ + " attempt " + std::to_string(attempts_) + " failed: " + why);
    last_error_ = why;
    if (retryable && retry_ && attempts_ < core_.opts.max_attempts) return retryLater();
    WebhookResult r;
    r.error = std::move(why);
    finish(std::move(r));
  }

  void retryLater() { arm(Phase::kBackoff, Clock::now() + core_.backoff(attempts_)); }

  // The one timer of the exchange: the connect or request deadline of the attempt, or the
  // end of the backoff. `timer_seq_` tells a stale expiry from the current one.
  void arm(Phase phase, Clock::time_point at) {
    phase_ = phase;
    const uint64_t seq = ++timer_seq_;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this(), seq](const error_code& ec) {
      if (ec == asio::error::operation_aborted || seq != self->timer_seq_ || self->finished_) {
        return;
      }
      self->expired();
    });
  }

  void expired() {
    const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
    switch (phase_) {
      case Phase::kConnecting:
        return attemptFailed(
            "timeout: no connection to " + peer_ + " within " +
                ms(std::min(core_.opts.connect_timeout, core_.opts.request_timeout)),
            true);
      case Phase::kExchanging:
        return attemptFailed("timeout: no complete response from " + peer_ + " within " +
                                 ms(core_.opts.request_timeout),
                             true);
      case Phase::kBackoff:
        return startAttempt();
    }
  }

  void closeAttempt() {
    if (!attempt_) return;
    attempt_->close();  // its pending operations complete as aborted and find it stale
    attempt_.reset();
  }

  void finish(WebhookResult r) {
    finished_ = true;
    ++timer_seq_;
    timer_.cancel();
    closeAttempt();
    r.attempts = attempts_;
    if (r.status == 0) {
      // Debug only: a dead customer endpoint would flood the log; callers report failures.
      SB_LOG(kDebug, "webhook: " + label_ + " failed after " + std::to_string(attempts_) +
                         " attempt(s): " + r.error);
    }
    WebhookCallback done = std::move(done_);
    core_.ended(id_, r.ok());  // from here on the destructor may be waiting on the join
    if (!done) return;
    try {
      done(std::move(r));
    } catch (const std::exception& e) {
      SB_LOG(kError, std::string("webhook: a completion callback threw: ") + e.what());
    } catch (...) {
      SB_LOG(kError, "webhook: a completion callback threw");
    }
  }

  internal::WebhookClientCore& core_;  // outlives every exchange (the destructor waits)
  const uint64_t id_;
  Strand strand_;
  asio::steady_timer timer_;
  uint64_t timer_seq_ = 0;
  Phase phase_ = Phase::kConnecting;
  Clock::time_point deadline_;
  const WebhookUrl url_;
  const http::request<http::string_body> request_;
  const std::string label_;
  std::string peer_;  // host:port for messages
  const bool retry_;
  WebhookCallback done_;
  int attempts_ = 0;
  bool finished_ = false;
  std::string last_error_;
  AttemptPtr attempt_;
};

void runLoop(internal::WebhookClientCore& core) {
  for (;;) {
    try {
      core.ioc.run();
      return;
    } catch (const std::exception& e) {
      SB_LOG(kError, std::string("webhook: I/O thread caught: ") + e.what());
    }
  }
}

}  // namespace

namespace internal {

WebhookClientCore::WebhookClientCore(WebhookClient::Options o) : opts(std::move(o)) {
  opts.threads = std::max<size_t>(opts.threads, 1);
  opts.max_attempts = std::max(opts.max_attempts, 1);
  opts.max_pending = std::max<size_t>(opts.max_pending, 1);

  try {
    tls = std::make_unique<ssl::context>(ssl::context::tls_client);
  } catch (const std::exception& e) {
    tls_error = std::string("cannot create a TLS context: ") + e.what();
  }
  if (tls) {
    error_code ec;
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
    if (opts.verify_peer) {
      tls->set_verify_mode(ssl::verify_peer, ec);
      tls->set_default_verify_paths(ec);
      if (ec) tls_error = "cannot load the system CA certificates: " + ec.message();
      if (!ec && !opts.ca_file.empty()) {
        tls->load_verify_file(opts.ca_file, ec);
        if (ec) tls_error = "cannot load ca_file " + opts.ca_file + ": " + ec.message();
      }
    } else {
      tls->set_verify_mode(ssl::verify_none, ec);
    }
    if (!tls_error.empty()) tls.reset();
  }
  if (!tls) SB_LOG(kError, "webhook: https webhooks disabled: " + tls_error);
}

void WebhookClientCore::ended(uint64_t id, bool ok) {
  (ok ? succeeded : failed).fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu);
  pending.erase(id);
  if (pending.empty()) idle.notify_all();
}

void WebhookClientCore::logRefusal(const std::string& host, const std::string& label,
                                   const std::string& why) {
  const auto now = Clock::now();
  {
    std::lock_guard lock(refusal_log_mu);
    auto [it, fresh] = refusal_logged.try_emplace(host, now);
    if (!fresh) {
      if (now - it->second < std::chrono::minutes(1)) return;
      it->second = now;
    }
    if (refusal_logged.size() > 4096) {  // many hosts: forget the quiet ones
      std::erase_if(refusal_logged,
                    [&](const auto& e) { return now - e.second >= std::chrono::minutes(1); });
    }
  }
  SB_LOG(kWarn, "webhook: " + label + " refused: " + why +
                    " (webhooks.allow admits it; logged once a minute per host)");
}

std::chrono::milliseconds WebhookClientCore::backoff(int failed_attempts) {
  const int64_t cap = std::max<int64_t>(opts.max_backoff.count(), 0);
  int64_t ceiling = std::min<int64_t>(std::max<int64_t>(opts.first_backoff.count(), 0), cap);
  for (int i = 1; i < failed_attempts && ceiling < cap; ++i) {
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  }
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  std::lock_guard lock(rng_mu);
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, ceiling)(rng));
}

}  // namespace internal

common::Result<WebhookUrl> parseWebhookUrl(std::string_view url) {
  const auto fail = [&](const std::string& why) {
    return common::makeError(common::ErrorCode::kInvalidArgument,
                             "bad webhook URL \"" + std::string(url) + "\": " + why);
  };
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return fail("not an absolute http or https URL");
  WebhookUrl out;
  const std::string scheme = common::toLower(url.substr(0, sep));
  if (scheme == "https") {
    out.tls = true;
  } else if (scheme != "http") {
    return fail("scheme \"" + scheme + "\" is not http or https");
  }
  const std::string_view rest = url.substr(sep + 3);
  const size_t end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return fail("credentials in the URL (user:password@) are not supported");
  }

  std::optional<std::string_view> port_text;
  error_code ec;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated [IPv6 address]");
    out.host = std::string(authority.substr(1, close - 1));
    asio::ip::make_address_v6(out.host, ec);
    if (ec) return fail("\"" + out.host + "\" is not an IPv6 address");
    out.ip_literal = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    if (out.host.empty()) return fail("no host");
    if (!validHostName(out.host)) return fail("invalid host \"" + out.host + "\"");
    asio::ip::make_address_v4(out.host, ec);
    out.ip_literal = !ec;
  }

  const uint16_t default_port = out.tls ? 443 : 80;
  out.port = default_port;
  if (port_text) {
    auto port = common::parseUint(*port_text, 65535);
    if (!port || *port == 0) return fail("invalid port \"" + std::string(*port_text) + "\"");
    out.port = uint16_t(*port);
  }
  out.host_header = out.host.find(':') != std::string::npos ? "[" + out.host + "]" : out.host;
  if (out.port != default_port) out.host_header += ":" + std::to_string(out.port);

  tail = tail.substr(0, tail.find('#'));
  for (char c : tail) {
    if (uint8_t(c) <= 0x20 || uint8_t(c) >= 0x7F) {
      return fail("the path or query has a byte that must be percent-encoded");
    }
  }
  out.target = tail.empty() || tail.front() == '?' ? "/" + std::string(tail) : std::string(tail);
  return out;
}

WebhookClient::WebhookClient(Options options)
    : core_(std::make_unique<internal::WebhookClientCore>(std::move(options))) {
  core_->work.emplace(core_->ioc.get_executor());
  for (size_t i = 0; i < core_->opts.threads; ++i) {
    core_->threads.emplace_back([core = core_.get()] { runLoop(*core); });
  }
}

WebhookClient::~WebhookClient() {
  for (const auto& t : core_->threads) {
    assert(t.get_id() != std::this_thread::get_id() && "destroyed from its own callback");
    (void)t;
  }
  std::vector<std::shared_ptr<Exchange>> live;
  {
    std::lock_guard lock(core_->mu);
    core_->stopping = true;
    for (const auto& [id, ex] : core_->pending) live.push_back(ex);
  }
  for (auto& ex : live) asio::post(ex->strand(), [ex] { ex->cancel(); });
  live.clear();
  {
    std::unique_lock lock(core_->mu);
    core_->idle.wait(lock, [&] { return core_->pending.empty(); });
  }
  // Every `done` has been called. Operations of abandoned attempts may still be queued:
  // stopping drops them, and their handlers are destroyed with the io_context.
  core_->work.reset();
  core_->ioc.stop();
  for (auto& t : core_->threads) t.join();
}

void WebhookClient::send(WebhookRequest request, WebhookCallback done) {
  internal::WebhookClientCore& c = *core_;
  const auto refuse = [&done](std::atomic<uint64_t>& counter, std::string why) {
    counter.fetch_add(1, std::memory_order_relaxed);
    if (!done) return;
    WebhookResult r;
    r.error = std::move(why);
    done(std::move(r));
  };
  auto prepared = prepare(request, c.opts);
  if (!prepared) return refuse(c.invalid, prepared.error().reason);
  if (prepared->url.tls && !c.tls) return refuse(c.rejected, "https unavailable: " + c.tls_error);

  const char* refusal = nullptr;
  {
    std::lock_guard lock(c.mu);
    if (c.stopping) {
      refusal = "client stopped: the webhook client is shutting down";
    } else if (c.pending.size() >= c.opts.max_pending) {
      refusal = "queue full";
    } else {
      const uint64_t id = c.next_id++;
      auto ex =
          std::make_shared<Exchange>(c, id, std::move(*prepared), request.retry, std::move(done));
      c.pending.emplace(id, ex);
      c.sent.fetch_add(1, std::memory_order_relaxed);
      asio::post(ex->strand(), [ex] { ex->start(); });
    }
  }
  if (refusal != nullptr) refuse(c.rejected, refusal);
}

WebhookClient::Stats WebhookClient::stats() const {
  const internal::WebhookClientCore& c = *core_;
  Stats s;
  s.sent = c.sent.load(std::memory_order_relaxed);
  s.succeeded = c.succeeded.load(std::memory_order_relaxed);
  s.failed = c.failed.load(std::memory_order_relaxed);
  s.retried = c.retried.load(std::memory_order_relaxed);
  s.rejected = c.rejected.load(std::memory_order_relaxed);
  s.invalid = c.invalid.load(std::memory_order_relaxed);
  s.refused = c.refused.load(std::memory_order_relaxed);
  std::lock_guard lock(c.mu);
  s.pending = c.pending.size();
  return s;
}

common::Status WebhookClient::tlsStatus() const {
  if (core_->tls) return {};
  return common::makeError(common::ErrorCode::kUnsupported, core_->tls_error);
}

}  // namespace api
