// WebhookClient against a real HTTP(S) server on 127.0.0.1 started by the test: the form
// encoding, signatures the receiver can validate, GET queries, retries, timeouts, limits,
// refusals, shutdown, and TLS with a self-signed certificate made here with the OpenSSL API.
#include "api/webhook_client.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "api/webhook_signature.h"
#include "common/log.h"

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using api::FormParams;
using api::WebhookClient;
using api::WebhookRequest;
using api::WebhookResult;

// ---- a small HTTP(S) server on its own thread -------------------------------------------

struct Received {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string sni;                             // the TLS server name the client sent
};

struct Reply {
  int status = 200;
  std::string body = "<Response/>";
  std::string content_type = "text/xml";
  bool chunked = false;      // Transfer-Encoding: chunked instead of Content-Length
  bool until_close = false;  // neither: the body ends when the connection closes
  bool hang = false;         // read the request, never answer
};

class TestServer {
 public:
  using Handler = std::function<Reply(const Received&)>;

  explicit TestServer(Handler handler, std::shared_ptr<ssl::context> tls = nullptr)
      : handler_(std::move(handler)),
        tls_(std::move(tls)),
        acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }

  uint16_t port() const { return port_; }
  std::string base() const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  size_t connections() const { return connections_.load(); }
  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  // Waits, with a bound, until `n` requests have arrived.
  bool waitForRequests(size_t n, std::chrono::milliseconds limit = 3s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return received_.size() >= n; });
  }

 private:
  template <typename Stream>
  class Session : public std::enable_shared_from_this<Session<Stream>> {
   public:
    Session(TestServer& server, Stream stream) : server_(server), stream_(std::move(stream)) {}
    void start() {
      if constexpr (std::is_same_v<Stream, ssl::stream<tcp::socket>>) {
        stream_.async_handshake(ssl::stream_base::server,
                                [self = this->shared_from_this()](const auto& ec) {
                                  if (!ec) self->read();
                                });
      } else {
        read();
      }
    }

   private:
    void read() {
      http::async_read(stream_, buffer_, request_,
                       [self = this->shared_from_this()](const auto& ec, size_t) {
                         if (!ec) self->answer();
                       });
    }
    void answer() {
      Received got;
      got.method = std::string(request_.method_string());
      got.target = std::string(request_.target());
      got.body = request_.body();
      for (const auto& f : request_) {
        std::string name(f.name_string());
        for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        got.headers[name] = std::string(f.value());
      }
      if constexpr (std::is_same_v<Stream, ssl::stream<tcp::socket>>) {
        const char* sni = SSL_get_servername(stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
        if (sni != nullptr) got.sni = sni;
      }
      Reply reply = server_.handler_(got);
      server_.record(std::move(got));
      if (reply.hang) {
        server_.hung_.push_back(this->shared_from_this());  // keeps the connection open
        return;
      }
      response_.result(unsigned(reply.status));
      response_.version(11);
      response_.set(http::field::content_type, reply.content_type);
      response_.keep_alive(false);
      response_.body() = std::move(reply.body);
      if (reply.chunked) {
        response_.chunked(true);
      } else if (!reply.until_close) {
        response_.prepare_payload();
      }
      http::async_write(stream_, response_, [self = this->shared_from_this()](const auto&, size_t) {
        boost::system::error_code ignored;
        self->stream_.lowest_layer().close(ignored);
      });
    }

    TestServer& server_;
    Stream stream_;
    boost::beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      ++connections_;
      if (tls_) {
        std::make_shared<Session<ssl::stream<tcp::socket>>>(
            *this, ssl::stream<tcp::socket>(std::move(socket), *tls_))
            ->start();
      } else {
        std::make_shared<Session<tcp::socket>>(*this, std::move(socket))->start();
      }
      accept();
    });
  }

  void record(Received got) {
    std::lock_guard lock(mu_);
    received_.push_back(std::move(got));
    cv_.notify_all();
  }

  Handler handler_;
  std::shared_ptr<ssl::context> tls_;
  asio::io_context ioc_;  // before everything that holds a socket of it
  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<void>> hung_;  // server thread only
  uint16_t port_ = 0;
  std::atomic<size_t> connections_{0};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
  std::thread thread_;
};

Reply ok(const Received&) {
  return Reply{};
}

// ---- helpers ----------------------------------------------------------------------------

WebhookClient::Options fastOptions() {
  WebhookClient::Options o;
  o.connect_timeout = 500ms;
  o.request_timeout = 1000ms;
  o.first_backoff = 5ms;
  o.max_backoff = 20ms;
  o.max_attempts = 3;
  // The test servers listen on loopback, which the default target policy refuses.
  o.targets = *api::WebhookTargetPolicy::create({"127.0.0.0/8", "::1/128"});
  return o;
}

// fastOptions() under the default target policy: public addresses only.
WebhookClient::Options publicOnly() {
  WebhookClient::Options o = fastOptions();
  o.targets = api::WebhookTargetPolicy();
  return o;
}

// Sends and waits, with a bound, for the result.
WebhookResult sendAndWait(WebhookClient& client, WebhookRequest request,
                          std::chrono::milliseconds limit = 5s) {
  auto promise = std::make_shared<std::promise<WebhookResult>>();
  auto future = promise->get_future();
  client.send(std::move(request), [promise](WebhookResult r) { promise->set_value(std::move(r)); });
  if (future.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "no result within " << limit.count() << " ms";
    return {};
  }
  return future.get();
}

WebhookRequest post(std::string url, FormParams params = {}, std::string token = "") {
  WebhookRequest r;
  r.url = std::move(url);
  r.params = std::move(params);
  r.auth_token = std::move(token);
  return r;
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(uint8_t(s[i + 1])) &&
        std::isxdigit(uint8_t(s[i + 2]))) {
      out.push_back(char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

FormParams decodeForm(std::string_view body) {
  FormParams out;
  while (!body.empty()) {
    const size_t amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const size_t eq = pair.find('=');
    out.emplace_back(percentDecode(pair.substr(0, eq)),
                     eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1)));
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
  }
  return out;
}

// A port on 127.0.0.1 with nothing listening (bound, then released).
uint16_t closedPort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = a.local_endpoint().port();
  a.close();
  return port;
}

// ---- a self-signed certificate, made with the OpenSSL API -------------------------------

struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

// A P-256 certificate valid for the subjectAltName `san` ("IP:127.0.0.1,DNS:localhost"),
// its own CA, so a client that trusts it as a CA accepts it.
TestCert makeCert(const std::string& san) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  if (!key || !x) return {};
  static std::atomic<long> serial{1};
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 3600);
  X509_set_pubkey(x.get(), key.get());
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("switchboard webhook test"), -1,
                             -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x.get(), x.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")},
        std::pair{NID_subject_alt_name, san}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) return {};
    X509_add_ext(x.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x.get(), key.get(), EVP_sha256()) == 0) return {};

  const auto pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    write(bio.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, size_t(n));
  };
  TestCert out;
  out.cert_pem = pem([&](BIO* b) { PEM_write_bio_X509(b, x.get()); });
  out.key_pem = pem([&](BIO* b) {
    PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return out;
}

std::shared_ptr<ssl::context> serverContext(const TestCert& cert) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->use_certificate_chain(asio::buffer(cert.cert_pem));
  ctx->use_private_key(asio::buffer(cert.key_pem), ssl::context::pem);
  return ctx;
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/sb_webhook_ca_XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd >= 0) {
      path_ = tmpl;
      ::close(fd);
      std::ofstream(path_) << content;
    }
  }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class WebhookClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("SB_TEST_DEBUG"))
      common::log::setup(common::log::Level::kDebug, common::log::Format::kText);
  }
};

// ---- URL parsing ------------------------------------------------------------------------

TEST(WebhookUrl, TakesApartHttpAndHttpsUrls) {
  auto u = api::parseWebhookUrl("https://example.com/voice?x=1#frag");
  ASSERT_TRUE(u.has_value()) << u.error().reason;
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "example.com");
  EXPECT_FALSE(u->ip_literal);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/voice?x=1");
  EXPECT_EQ(u->host_header, "example.com");

  u = api::parseWebhookUrl("HTTP://127.0.0.1:8080");
  ASSERT_TRUE(u.has_value()) << u.error().reason;
  EXPECT_FALSE(u->tls);
  EXPECT_TRUE(u->ip_literal);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/");
  EXPECT_EQ(u->host_header, "127.0.0.1:8080");

  u = api::parseWebhookUrl("http://[::1]:8000?a=b");
  ASSERT_TRUE(u.has_value()) << u.error().reason;
  EXPECT_EQ(u->host, "::1");
  EXPECT_TRUE(u->ip_literal);
  EXPECT_EQ(u->port, 8000);
  EXPECT_EQ(u->target, "/?a=b");
  EXPECT_EQ(u->host_header, "[::1]:8000");

  u = api::parseWebhookUrl("http://hooks.example.com:80/a/b");
  ASSERT_TRUE(u.has_value()) << u.error().reason;
  EXPECT_EQ(u->host_header, "hooks.example.com");  // the default port is left out
  EXPECT_EQ(u->port, 80);
}

TEST(WebhookUrl, RejectsWhatItCannotCall) {
  for (const char* bad :
       {"", "example.com/voice", "ftp://example.com/x", "file:///etc/passwd", "http://",
        "http:///path", "http://:80/", "http://exa mple.com/", "http://host:0/",
        "http://host:65536/", "http://host:12ab/", "http://host:/", "http://[::1/",
        "http://[nope]/", "http://[::1]x/", "http://user:pw@example.com/", "http://example.com/a b",
        "http://example.com/\xC3\xA9", "http://example.com/\r\nX: y"}) {
    auto u = api::parseWebhookUrl(bad);
    EXPECT_FALSE(u.has_value()) << bad;
    if (!u) {
      EXPECT_NE(u.error().reason.find("bad webhook URL"), std::string::npos) << bad;
    }
  }
}

// ---- requests on the wire ---------------------------------------------------------------

TEST_F(WebhookClientTest, PostIsFormEncodedSignedAndAnsweredOnAClientThread) {
  TestServer server(ok);
  WebhookClient client(fastOptions());
  const FormParams params = {{"CallSid", "CA123"},
                             {"From", "+1 555 0100"},
                             {"Body", "héllo wörld ✓ 😀"},
                             {"Odd&Name=", "a+b/c?d~e_f.g-h"},
                             {"Digits", "1"},
                             {"Digits", "2"}};
  const std::string url = server.base() + "/voice.php?foo=1&bar=2";
  std::thread::id callback_thread;
  auto promise = std::make_shared<std::promise<WebhookResult>>();
  auto future = promise->get_future();
  client.send(post(url, params, "secret-token"), [&, promise](WebhookResult r) {
    callback_thread = std::this_thread::get_id();
    promise->set_value(std::move(r));
  });
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  WebhookResult r = future.get();

  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.body, "<Response/>");
  EXPECT_EQ(r.content_type, "text/xml");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(r.ok());
  EXPECT_NE(callback_thread, std::this_thread::get_id());

  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/voice.php?foo=1&bar=2");
  EXPECT_EQ(got[0].body,
            "CallSid=CA123&From=%2B1%20555%200100"
            "&Body=h%C3%A9llo%20w%C3%B6rld%20%E2%9C%93%20%F0%9F%98%80"
            "&Odd%26Name%3D=a%2Bb%2Fc%3Fd~e_f.g-h&Digits=1&Digits=2");
  EXPECT_EQ(got[0].headers["content-type"], "application/x-www-form-urlencoded");
  EXPECT_EQ(got[0].headers["content-length"], std::to_string(got[0].body.size()));
  EXPECT_EQ(got[0].headers["host"], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(got[0].headers["user-agent"], "Switchboard/0.1");
  EXPECT_EQ(got[0].headers["accept"], "*/*");

  // What a receiver does: the URL it was called at, the decoded form, its auth token.
  const std::string called = server.base() + got[0].target;
  const FormParams decoded = decodeForm(got[0].body);
  EXPECT_EQ(decoded, params);
  const std::string sig = got[0].headers["x-twilio-signature"];
  EXPECT_EQ(sig, api::twilioSignature("secret-token", url, params));
  EXPECT_TRUE(api::signatureMatches("secret-token", sig, called, decoded));
  EXPECT_FALSE(api::signatureMatches("other-token", sig, called, decoded));

  auto s = client.stats();
  EXPECT_EQ(s.sent, 1u);
  EXPECT_EQ(s.succeeded, 1u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.pending, 0u);
}

TEST_F(WebhookClientTest, GetPutsParamsInTheQueryAndSignsTheFullUrl) {
  TestServer server(ok);
  WebhookClient client(fastOptions());
  const FormParams params = {{"CallStatus", "completed"}, {"From", "+1 555"}};

  WebhookRequest req = post(server.base() + "/status?x=1", params, "tok");
  req.method = "GET";
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 200);

  req.url = server.base() + "/plain";
  req.method = "get";
  r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 200);

  auto got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].method, "GET");
  EXPECT_EQ(got[0].target, "/status?x=1&CallStatus=completed&From=%2B1%20555");
  EXPECT_EQ(got[1].target, "/plain?CallStatus=completed&From=%2B1%20555");
  EXPECT_EQ(got[0].body, "");
  EXPECT_EQ(got[0].headers.count("content-type"), 0u);
  for (const auto& g : got) {
    const std::string full = server.base() + g.target;
    const std::string sig = g.headers.at("x-twilio-signature");
    EXPECT_TRUE(api::signatureMatches("tok", sig, full, {})) << full;
    // Not the POST rule: the params are not signed a second time.
    EXPECT_FALSE(api::signatureMatches("tok", sig, full, params)) << full;
  }
}

TEST_F(WebhookClientTest, UnsignedRequestCarriesNoSignatureAndKeepsExtraHeaders) {
  TestServer server(ok);
  WebhookClient::Options o = fastOptions();
  o.user_agent = "TwilioProxy/1.1";
  WebhookClient client(o);
  WebhookRequest req = post(server.base() + "/sms", {{"Body", "hi"}});
  req.headers = {{"I-Twilio-Idempotency-Token", "abc-123"}, {"Accept", "text/xml"}};
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 200);
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].headers.count("x-twilio-signature"), 0u);
  EXPECT_EQ(got[0].headers["i-twilio-idempotency-token"], "abc-123");
  EXPECT_EQ(got[0].headers["accept"], "text/xml");
  EXPECT_EQ(got[0].headers["user-agent"], "TwilioProxy/1.1");
  EXPECT_EQ(got[0].body, "Body=hi");
}

TEST_F(WebhookClientTest, RedirectIsReturnedNotFollowed) {
  TestServer server([](const Received&) {
    Reply r;
    r.status = 302;
    r.body = "";
    return r;
  });
  WebhookClient client(fastOptions());
  WebhookRequest req = post(server.base() + "/moved");
  req.retry = true;
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(server.received().size(), 1u);
  EXPECT_EQ(client.stats().failed, 1u);
}

// ---- retries ----------------------------------------------------------------------------

TEST_F(WebhookClientTest, RetriesA500ThenGetsThe200) {
  std::atomic<int> calls{0};
  TestServer server([&](const Received&) {
    Reply r;
    if (calls++ == 0) {
      r.status = 500;
      r.body = "busy";
    }
    return r;
  });
  WebhookClient client(fastOptions());
  WebhookRequest req = post(server.base() + "/cb", {{"CallStatus", "ringing"}}, "tok");
  req.retry = true;
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<Response/>");
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.error, "");
  auto got = server.received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].body, got[1].body);
  EXPECT_EQ(got[0].headers["x-twilio-signature"], got[1].headers["x-twilio-signature"]);
  auto s = client.stats();
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(s.succeeded, 1u);
}

TEST_F(WebhookClientTest, RetriesA429AndGivesUpAfterMaxAttemptsOfErrors) {
  std::atomic<int> calls{0};
  TestServer server([&](const Received&) {
    Reply r;
    r.status = calls++ == 0 ? 429 : 503;
    r.body = "later";
    return r;
  });
  WebhookClient client(fastOptions());
  WebhookRequest req = post(server.base() + "/cb");
  req.retry = true;
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 503);  // the last answer, as it was
  EXPECT_EQ(r.body, "later");
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(server.received().size(), 3u);
  EXPECT_EQ(client.stats().retried, 2u);
  EXPECT_EQ(client.stats().failed, 1u);
}

TEST_F(WebhookClientTest, A404IsNotRetried) {
  TestServer server([](const Received&) {
    Reply r;
    r.status = 404;
    r.body = "no such page";
    r.content_type = "text/plain";
    return r;
  });
  WebhookClient client(fastOptions());
  WebhookRequest req = post(server.base() + "/missing");
  req.retry = true;
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no such page");
  EXPECT_EQ(r.content_type, "text/plain");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(server.received().size(), 1u);
  EXPECT_EQ(client.stats().retried, 0u);
}

TEST_F(WebhookClientTest, WithoutRetryA500IsOneAttempt) {
  TestServer server([](const Received&) {
    Reply r;
    r.status = 500;
    return r;
  });
  WebhookClient client(fastOptions());
  WebhookResult r = sendAndWait(client, post(server.base() + "/voice"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(server.received().size(), 1u);
}

// ---- failures without an answer ---------------------------------------------------------

TEST_F(WebhookClientTest, ServerThatNeverAnswersTimesOutWithinTheRequestTimeout) {
  TestServer server([](const Received&) {
    Reply r;
    r.hang = true;
    return r;
  });
  WebhookClient::Options o = fastOptions();
  o.request_timeout = 200ms;
  WebhookClient client(o);
  const auto start = std::chrono::steady_clock::now();
  WebhookResult r = sendAndWait(client, post(server.base() + "/slow"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("timeout"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("200 ms"), std::string::npos) << r.error;
  EXPECT_EQ(r.attempts, 1);
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 700ms);
  EXPECT_EQ(server.received().size(), 1u);
}

TEST_F(WebhookClientTest, TimeoutsAreRetriedWhenAsked) {
  TestServer server([](const Received&) {
    Reply r;
    r.hang = true;
    return r;
  });
  WebhookClient::Options o = fastOptions();
  o.request_timeout = 100ms;
  o.max_attempts = 2;
  WebhookClient client(o);
  WebhookRequest req = post(server.base() + "/slow");
  req.retry = true;
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("timeout"), std::string::npos) << r.error;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_TRUE(server.waitForRequests(2));
}

TEST_F(WebhookClientTest, ConnectionRefusedFailsAndIsRetriedMaxAttemptsTimes) {
  const uint16_t port = closedPort();
  WebhookClient client(fastOptions());
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/voice";

  WebhookResult r = sendAndWait(client, post(url));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.error;
  EXPECT_EQ(r.attempts, 1);

  WebhookRequest req = post(url);
  req.retry = true;
  r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;
  EXPECT_EQ(r.attempts, 3);
  auto s = client.stats();
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.failed, 2u);
  EXPECT_EQ(s.sent, 2u);
}

TEST_F(WebhookClientTest, ResponseOverTheCapFails) {
  TestServer server([](const Received& got) {
    Reply r;
    r.body = std::string(got.target == "/fits" ? 1000 : 1001, 'x');
    r.chunked = got.target == "/chunked";
    r.until_close = got.target == "/eof";
    return r;
  });
  WebhookClient::Options o = fastOptions();
  o.max_response_bytes = 1000;
  WebhookClient client(o);

  WebhookResult r = sendAndWait(client, post(server.base() + "/fits"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 1000u);

  for (const char* path : {"/big", "/chunked", "/eof"}) {
    WebhookRequest req = post(server.base() + path);
    req.retry = true;  // a too large answer is not retried: it would be as large again
    r = sendAndWait(client, req);
    EXPECT_EQ(r.status, 0) << path;
    EXPECT_EQ(r.body, "") << path;
    EXPECT_EQ(r.attempts, 1) << path;
    EXPECT_NE(r.error.find("exceeds 1000 bytes"), std::string::npos) << path << ": " << r.error;
  }
}

// ---- refusals ---------------------------------------------------------------------------

TEST_F(WebhookClientTest, BadRequestsFailWithoutSending) {
  TestServer server(ok);
  WebhookClient client(fastOptions());
  const std::string port = std::to_string(server.port());
  std::vector<WebhookRequest> bad;
  for (const std::string& url : std::vector<std::string>{
           "ftp://127.0.0.1:" + port + "/x", "127.0.0.1:" + port + "/x",
           "http://127.0.0.1:" + port + "/a b", "http://127.0.0.1:99999/x",
           "http://u:p@127.0.0.1:" + port + "/x", "http://[::1/x", "mailto:x@y"}) {
    bad.push_back(post(url));
  }
  WebhookRequest put = post(server.base() + "/x");
  put.method = "PUT";
  bad.push_back(put);
  WebhookRequest host = post(server.base() + "/x");
  host.headers = {{"Host", "evil.example"}};
  bad.push_back(host);
  WebhookRequest crlf = post(server.base() + "/x");
  crlf.headers = {{"X-Note", "a\r\nX-Injected: 1"}};
  bad.push_back(crlf);

  for (auto& req : bad) {
    const std::string what = req.method + " " + req.url;
    bool called = false;
    WebhookResult r;
    client.send(std::move(req), [&](WebhookResult got) {
      called = true;
      r = std::move(got);
    });
    EXPECT_TRUE(called) << what;  // before send() returned
    EXPECT_EQ(r.status, 0) << what;
    EXPECT_EQ(r.attempts, 0) << what;
    EXPECT_FALSE(r.error.empty()) << what;
  }
  // Nothing reached the server: a good request afterwards is the first it sees.
  EXPECT_EQ(sendAndWait(client, post(server.base() + "/x")).status, 200);
  EXPECT_EQ(server.connections(), 1u);
  auto s = client.stats();
  EXPECT_EQ(s.invalid, 10u);
  EXPECT_EQ(s.sent, 1u);
}

TEST_F(WebhookClientTest, QueueFullIsRefusedAndShutdownCancelsWhatIsPending) {
  TestServer server([](const Received&) {
    Reply r;
    r.hang = true;
    return r;
  });
  WebhookClient::Options o = fastOptions();
  o.max_pending = 2;
  o.request_timeout = 10s;  // only the shutdown ends them
  auto client = std::make_unique<WebhookClient>(o);

  std::mutex mu;
  std::vector<WebhookResult> results;
  for (int i = 0; i < 2; ++i) {
    client->send(post(server.base() + "/hang"), [&](WebhookResult r) {
      std::lock_guard lock(mu);
      results.push_back(std::move(r));
    });
  }
  ASSERT_TRUE(server.waitForRequests(2));

  bool called = false;
  WebhookResult full;
  client->send(post(server.base() + "/third"), [&](WebhookResult r) {
    called = true;
    full = std::move(r);
  });
  EXPECT_TRUE(called);
  EXPECT_EQ(full.status, 0);
  EXPECT_EQ(full.error, "queue full");
  EXPECT_EQ(full.attempts, 0);
  auto s = client->stats();
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.pending, 2u);
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(results.empty());
  }

  const auto start = std::chrono::steady_clock::now();
  client.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_NE(r.error.find("cancelled"), std::string::npos) << r.error;
  }
  EXPECT_EQ(server.received().size(), 2u);
}

TEST_F(WebhookClientTest, ShutdownCancelsARequestWaitingToRetry) {
  WebhookClient::Options o = fastOptions();
  o.first_backoff = 10s;
  o.max_backoff = 10s;
  o.max_attempts = 5;
  auto client = std::make_unique<WebhookClient>(o);
  std::promise<WebhookResult> promise;
  auto future = promise.get_future();
  WebhookRequest req = post("http://127.0.0.1:" + std::to_string(closedPort()) + "/cb");
  req.retry = true;
  client->send(std::move(req), [&](WebhookResult r) { promise.set_value(std::move(r)); });
  // The first attempt is refused at once; then the request waits (up to 10 s) to retry.
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  client.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  WebhookResult r = future.get();
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("cancelled"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("refused"), std::string::npos) << r.error;  // the last attempt's error
}

TEST_F(WebhookClientTest, SendFromTheCallbackDuringShutdownIsRefused) {
  TestServer server([](const Received&) {
    Reply r;
    r.hang = true;
    return r;
  });
  auto client = std::make_unique<WebhookClient>(fastOptions());
  WebhookClient* raw = client.get();  // client.reset() nulls `client` before destroying it
  std::string second_error;
  client->send(post(server.base() + "/a"), [&, raw](WebhookResult) {
    raw->send(post(server.base() + "/b"), [&](WebhookResult again) { second_error = again.error; });
  });
  ASSERT_TRUE(server.waitForRequests(1));
  client.reset();
  EXPECT_NE(second_error.find("shutting down"), std::string::npos) << second_error;
}

TEST_F(WebhookClientTest, ManyConcurrentRequestsOnTwoThreads) {
  TestServer server([](const Received& got) {
    Reply r;
    r.body = got.body;
    return r;
  });
  WebhookClient::Options o = fastOptions();
  o.threads = 2;
  WebhookClient client(o);
  constexpr int kN = 40;
  std::vector<std::future<WebhookResult>> futures;
  for (int i = 0; i < kN; ++i) {
    auto promise = std::make_shared<std::promise<WebhookResult>>();
    futures.push_back(promise->get_future());
    client.send(post(server.base() + "/n", {{"N", std::to_string(i)}}, "tok"),
                [promise](WebhookResult r) { promise->set_value(std::move(r)); });
  }
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(futures[size_t(i)].wait_for(5s), std::future_status::ready);
    WebhookResult r = futures[size_t(i)].get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "N=" + std::to_string(i));
  }
  auto s = client.stats();
  EXPECT_EQ(s.sent, uint64_t(kN));
  EXPECT_EQ(s.succeeded, uint64_t(kN));
  EXPECT_EQ(s.pending, 0u);
}

// ---- TLS --------------------------------------------------------------------------------

class WebhookClientTlsTest : public WebhookClientTest {
 protected:
  void SetUp() override {
    WebhookClientTest::SetUp();
    cert_ = makeCert("IP:127.0.0.1,DNS:localhost");
    ASSERT_FALSE(cert_.cert_pem.empty());
    ca_file_.emplace(cert_.cert_pem);
    ASSERT_FALSE(ca_file_->path().empty());
  }
  WebhookClient::Options tlsOptions(bool with_ca) {
    WebhookClient::Options o = fastOptions();
    if (with_ca) o.ca_file = ca_file_->path();
    return o;
  }
  TestCert cert_;
  std::optional<TempFile> ca_file_;
};

TEST_F(WebhookClientTlsTest, SelfSignedCertificateIsRejectedWithoutTheCaFile) {
  TestServer server(ok, serverContext(cert_));
  WebhookClient client(tlsOptions(false));
  EXPECT_TRUE(client.tlsStatus().has_value());
  WebhookRequest req = post(server.base() + "/voice");
  req.retry = true;  // an untrusted certificate is not retried
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("certificate"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("self-signed"), std::string::npos) << r.error;
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(server.received().empty());
}

TEST_F(WebhookClientTlsTest, TrustedThroughTheCaFile) {
  TestServer server(ok, serverContext(cert_));
  WebhookClient client(tlsOptions(true));
  const FormParams params = {{"CallSid", "CA1"}};
  WebhookResult r = sendAndWait(client, post(server.base() + "/voice", params, "tok"));
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "<Response/>");
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "CallSid=CA1");
  EXPECT_EQ(got[0].sni, "");  // no SNI for an IP address
  EXPECT_TRUE(api::signatureMatches("tok", got[0].headers["x-twilio-signature"],
                                    server.base() + got[0].target, decodeForm(got[0].body)));
}

TEST_F(WebhookClientTlsTest, HostNameGoesInSniAndIsVerified) {
  TestServer server(ok, serverContext(cert_));
  WebhookClient client(tlsOptions(true));
  WebhookResult r =
      sendAndWait(client, post("https://localhost:" + std::to_string(server.port()) + "/voice"));
  ASSERT_EQ(r.status, 200) << r.error;
  auto got = server.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sni, "localhost");
  EXPECT_EQ(got[0].headers["host"], "localhost:" + std::to_string(server.port()));
}

TEST_F(WebhookClientTlsTest, CertificateForAnotherNameIsRejected) {
  const TestCert other = makeCert("DNS:hooks.example.com");
  ASSERT_FALSE(other.cert_pem.empty());
  TempFile other_ca(other.cert_pem);
  TestServer server(ok, serverContext(other));
  WebhookClient::Options o = fastOptions();
  o.ca_file = other_ca.path();
  WebhookClient client(o);
  WebhookResult r = sendAndWait(client, post(server.base() + "/voice"));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("mismatch"), std::string::npos) << r.error;
  EXPECT_TRUE(server.received().empty());
}

TEST_F(WebhookClientTlsTest, VerificationCanBeSwitchedOff) {
  TestServer server(ok, serverContext(cert_));
  WebhookClient::Options o = tlsOptions(false);
  o.verify_peer = false;
  WebhookClient client(o);
  WebhookResult r = sendAndWait(client, post(server.base() + "/voice"));
  EXPECT_EQ(r.status, 200) << r.error;
}

TEST_F(WebhookClientTlsTest, UnreadableCaFileRefusesHttpsButNotHttp) {
  TestServer plain(ok);
  WebhookClient::Options o = fastOptions();
  o.ca_file = "/nonexistent/ca.pem";
  WebhookClient client(o);
  ASSERT_FALSE(client.tlsStatus().has_value());
  EXPECT_NE(client.tlsStatus().error().reason.find("/nonexistent/ca.pem"), std::string::npos);
  WebhookResult r = sendAndWait(client, post("https://127.0.0.1:1/voice"));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("https unavailable"), std::string::npos) << r.error;
  EXPECT_EQ(client.stats().rejected, 1u);
  EXPECT_EQ(sendAndWait(client, post(plain.base() + "/voice")).status, 200);
}

// ---- the target policy (webhooks.allow) ------------------------------------------------

// localhost is a name: the client resolves it and refuses each address it gets (127.0.0.1,
// ::1) before connecting; the listener on 127.0.0.1 sees no connection.
TEST(WebhookClientTargets, ANameResolvingToLoopbackIsRefusedWithoutConnecting) {
  TestServer server(ok);
  WebhookClient client(publicOnly());
  const std::string port = std::to_string(server.port());
  WebhookRequest req = post("http://localhost:" + port + "/admin?op=delete-all");
  req.retry = true;  // a refusal is final: no retries
  WebhookResult r = sendAndWait(client, req);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("address refused"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("localhost resolves to"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("loopback"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("webhooks.allow"), std::string::npos) << r.error;
  EXPECT_EQ(r.attempts, 0);
  std::this_thread::sleep_for(50ms);  // a connection, had one been made, would be counted
  EXPECT_EQ(server.connections(), 0u);
  const WebhookClient::Stats s = client.stats();
  EXPECT_EQ(s.refused, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.retried, 0u);
}

// Literal addresses in every form: dotted, decimal and hex (read by getaddrinfo as
// 127.0.0.1), bracketed IPv6 loopback and IPv4-mapped loopback.
TEST(WebhookClientTargets, LiteralAndNumericLoopbackHostsAreRefused) {
  TestServer server(ok);
  WebhookClient client(publicOnly());
  const std::string port = std::to_string(server.port());
  for (const std::string host :
       {"127.0.0.1", "2130706433", "0x7f000001", "127.1", "[::1]", "[::ffff:127.0.0.1]"}) {
    WebhookResult r = sendAndWait(client, post("http://" + host + ":" + port + "/x"));
    EXPECT_EQ(r.status, 0) << host;
    EXPECT_NE(r.error.find("address refused"), std::string::npos) << host << ": " << r.error;
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(client.stats().refused, 6u);
}

TEST(WebhookClientTargets, MetadataNamesAreRefusedBeforeAnyLookup) {
  WebhookClient client(publicOnly());
  WebhookResult r =
      sendAndWait(client, post("http://metadata.google.internal/computeMetadata/v1/"));
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("cloud metadata"), std::string::npos) << r.error;
  EXPECT_EQ(client.stats().refused, 1u);
}

TEST(WebhookClientTargets, TheAllowListAdmitsLoopback) {
  TestServer server(ok);
  WebhookClient client(fastOptions());  // webhooks.allow = 127.0.0.0/8, ::1/128
  const std::string port = std::to_string(server.port());
  WebhookResult r = sendAndWait(client, post("http://localhost:" + port + "/hook"));
  EXPECT_EQ(r.status, 200) << r.error;
  r = sendAndWait(client, post("http://2130706433:" + port + "/hook"));
  EXPECT_EQ(r.status, 200) << r.error;
  ASSERT_TRUE(server.waitForRequests(2));
  EXPECT_EQ(server.received()[0].target, "/hook");
  EXPECT_EQ(client.stats().refused, 0u);
}

}  // namespace
