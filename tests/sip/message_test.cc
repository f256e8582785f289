#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>

#include "common/address_set.h"
#include "sip/message.h"
#include "sip/response.h"
#include "sip/validate.h"

namespace {

constexpr std::string_view kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\r\n"
    "Record-Route: <sip:p0.example.com;lr>\r\n"
    "Timestamp: 54\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

sip::Message mustParse(std::string_view s, sip::ParseOptions o = {}) {
  auto m = sip::Message::parse(s, o);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().reason);
  if (!m) std::abort();
  return std::move(m).value();
}

TEST(Message, TypedAccess) {
  auto m = mustParse(kInvite);
  EXPECT_TRUE(m.isRequest());
  EXPECT_EQ(m.method(), sip::Method::kInvite);
  EXPECT_EQ(m.requestUri().user(), "bob");
  ASSERT_TRUE(m.vias().has_value());
  EXPECT_TRUE((*m.vias())[0].hasRport());
  EXPECT_FALSE((*m.vias())[0].rport().has_value());
  EXPECT_TRUE((*m.vias())[0].hasRfc3261Branch());
  EXPECT_EQ(m.from()->display_name, "Alice");
  EXPECT_EQ(m.from()->tag().value_or(""), "1928301774");
  EXPECT_FALSE(m.to()->tag().has_value());
  EXPECT_EQ(m.cseq()->number, 314159u);
  EXPECT_EQ(m.maxForwards().value_or(0), 70u);
  ASSERT_TRUE(m.routes().has_value());
  ASSERT_EQ(m.routes()->size(), 2u);
  EXPECT_EQ((*m.routes())[1].uri.host(), "p2.example.com");
  EXPECT_EQ(m.body(), "v=0\n");
  EXPECT_EQ(m.contentType()->subtype, "sdp");
  EXPECT_TRUE(sip::validate(m).has_value());
  EXPECT_EQ(m.serialize(), kInvite);
}

TEST(Message, HeaderNamesAndCompactForms) {
  using sip::HeaderId;
  for (size_t i = 1; i < size_t(HeaderId::kCount); ++i) {
    auto id = HeaderId(i);
    EXPECT_EQ(sip::headerIdFromName(sip::headerName(id)), id) << sip::headerName(id);
  }
  EXPECT_EQ(sip::headerIdFromName("call-id"), HeaderId::kCallId);
  EXPECT_EQ(sip::headerIdFromName("i"), HeaderId::kCallId);
  EXPECT_EQ(sip::headerIdFromName("M"), HeaderId::kContact);
  EXPECT_EQ(sip::headerIdFromName("l"), HeaderId::kContentLength);
  EXPECT_EQ(sip::headerIdFromName("v"), HeaderId::kVia);
  EXPECT_EQ(sip::headerIdFromName("k"), HeaderId::kSupported);
  EXPECT_EQ(sip::headerIdFromName("X-Custom"), HeaderId::kOther);
  EXPECT_EQ(sip::methodFromName("invite"), sip::Method::kOther);  // methods are case-sensitive
}

TEST(Message, ProxyEditsAppliedWhileSerializing) {
  auto m = mustParse(kInvite);
  m.edits().setRequestUri("sip:bob@192.0.2.4:5062");
  m.edits().pushVia("SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1");
  m.edits().popRoute();
  m.edits().addRecordRoute("<sip:proxy.example.com;lr>");
  m.edits().decrementMaxForwards();
  std::string out = m.serialize();
  auto again = mustParse(out);
  EXPECT_EQ(again.requestUriText(), "sip:bob@192.0.2.4:5062");
  ASSERT_EQ(again.vias()->size(), 2u);
  EXPECT_EQ((*again.vias())[0].host, "proxy.example.com");
  EXPECT_EQ((*again.vias())[1].host, "pc33.atlanta.example.com");
  ASSERT_EQ(again.routes()->size(), 1u);
  EXPECT_EQ((*again.routes())[0].uri.host(), "p2.example.com");
  ASSERT_EQ(again.recordRoutes()->size(), 2u);
  EXPECT_EQ((*again.recordRoutes())[0].uri.host(), "proxy.example.com");
  EXPECT_EQ((*again.recordRoutes())[1].uri.host(), "p0.example.com");
  EXPECT_EQ(again.maxForwards().value_or(0), 69u);
  EXPECT_EQ(again.body(), "v=0\n");
  EXPECT_TRUE(sip::validate(again).has_value());
  // The original bytes are untouched.
  EXPECT_EQ(m.raw(), kInvite);
}

TEST(Message, PopViaAndPopLastRoute) {
  std::string resp =
      "SIP/2.0 180 Ringing\r\n"
      "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1, SIP/2.0/UDP "
      "a.example.com;branch=z9hG4bKa\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
      "Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
  auto m = mustParse(resp);
  m.edits().popVia();
  auto again = mustParse(m.serialize());
  ASSERT_EQ(again.vias()->size(), 1u);
  EXPECT_EQ((*again.vias())[0].host, "a.example.com");
  EXPECT_EQ(again.statusCode(), 180);

  std::string req = std::string(kInvite);
  auto r = mustParse(req);
  r.edits().popRoute();
  r.edits().popRoute();
  auto no_route = mustParse(r.serialize());
  EXPECT_EQ(no_route.headerCount(sip::HeaderId::kRoute), 0u);
}

TEST(Message, ReplaceTopViaStampsReceivedAndKeepsTheRest) {
  std::string req =
      "INVITE sip:b@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport, SIP/2.0/UDP "
      "b.example.com;branch=z9hG4bKb\r\n"
      "Via: SIP/2.0/TCP c.example.com;branch=z9hG4bKc\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
      "Call-ID: x\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  auto m = mustParse(req);
  m.edits().replaceTopVia(
      "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKa;rport=40000;received=203.0.113.9");
  m.edits().pushVia("SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1");
  auto again = mustParse(m.serialize());
  ASSERT_EQ(again.vias()->size(), 4u);
  EXPECT_EQ((*again.vias())[0].host, "proxy.example.com");
  EXPECT_EQ((*again.vias())[1].received().value_or(""), "203.0.113.9");
  EXPECT_EQ((*again.vias())[1].rport().value_or(0), 40000u);
  EXPECT_EQ((*again.vias())[2].host, "b.example.com");
  EXPECT_EQ((*again.vias())[3].host, "c.example.com");

  // A popped top Via is not replaced: the replacement never lands on the next one.
  auto r = mustParse(req);
  r.edits().popVia();
  r.edits().replaceTopVia("SIP/2.0/UDP wrong.example.com;branch=z9hG4bKw");
  auto popped = mustParse(r.serialize());
  ASSERT_EQ(popped.vias()->size(), 2u);
  EXPECT_EQ((*popped.vias())[0].host, "b.example.com");
}

TEST(Message, MaxForwardsAddedWhenAbsent) {
  auto m = mustParse(
      "OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:a@example.com>;tag=1\r\nTo: <sip:x@example.com>\r\nCall-ID: c\r\n"
      "CSeq: 1 OPTIONS\r\n\r\n");
  m.edits().decrementMaxForwards();
  EXPECT_EQ(mustParse(m.serialize()).maxForwards().value_or(0), 70u);
}

TEST(Message, ResponseFromRequest) {
  auto req = mustParse(kInvite);
  std::string wire = sip::ResponseBuilder(req, 180).toTag("as83kd9bs").copyRecordRoute().build();
  auto r = mustParse(wire);
  EXPECT_EQ(r.statusCode(), 180);
  EXPECT_EQ(r.reasonPhrase(), "Ringing");
  EXPECT_EQ((*r.vias())[0].branch().value_or(""), "z9hG4bK776asdhds");
  EXPECT_EQ(r.to()->tag().value_or(""), "as83kd9bs");
  EXPECT_EQ(r.from()->tag().value_or(""), "1928301774");
  EXPECT_EQ(r.callId().value_or(""), "a84b4c76e66710@pc33.atlanta.example.com");
  EXPECT_EQ(r.cseq()->method, "INVITE");
  EXPECT_EQ(r.headerCount(sip::HeaderId::kRecordRoute), 1u);
  EXPECT_EQ(r.headerCount(sip::HeaderId::kTimestamp), 0u);  // only 100 copies it
  EXPECT_EQ(r.contentLength().value_or(99), 0u);
  EXPECT_TRUE(sip::validate(r).has_value());

  auto trying = mustParse(sip::ResponseBuilder(req, 100).toTag("ignored").build());
  EXPECT_FALSE(trying.to()->tag().has_value());
  EXPECT_EQ(trying.headerValue(sip::HeaderId::kTimestamp), "54");

  auto challenge = mustParse(sip::ResponseBuilder(req, 407)
                                 .header("Proxy-Authenticate", "Digest realm=\"x\", nonce=\"n\"")
                                 .body("text/plain", "auth")
                                 .build());
  EXPECT_EQ(challenge.reasonPhrase(), "Proxy Authentication Required");
  EXPECT_EQ(challenge.body(), "auth");
  EXPECT_NE(challenge.findHeader(sip::HeaderId::kProxyAuthenticate), nullptr);
}

// RFC 3581 §4: a server fills in rport and adds received whenever it does, also when the
// source address is the sent-by host; only the topmost Via value changes.
TEST(Message, ResponsesStampTheTopViaWithReceivedAndRport) {
  std::string text = std::string(kInvite);
  text.replace(text.find("Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport"),
               72,
               "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776asdhds;rport, SIP/2.0/UDP "
               "198.51.100.1;branch=z9hG4bKup");
  auto req = mustParse(text);
  const auto ip = *common::ipLiteral("192.0.2.4");
  auto r = mustParse(sip::ResponseBuilder(req, 401).receivedFrom(ip, 5060).build());
  ASSERT_EQ(r.vias()->size(), 2u);
  EXPECT_EQ((*r.vias())[0].rport().value_or(0), 5060);
  EXPECT_EQ((*r.vias())[0].received().value_or(""), "192.0.2.4");
  EXPECT_EQ((*r.vias())[0].branch().value_or(""), "z9hG4bK776asdhds");
  EXPECT_EQ((*r.vias())[1].host, "198.51.100.1");
  EXPECT_FALSE((*r.vias())[1].received().has_value());
  // Without rport, received only when the address differs from sent-by.
  auto plain = mustParse(kInvite);
  EXPECT_FALSE(sip::receivedVia(plain.vias()->front(), ip, 5060)->empty());  // a name: received
  std::string same = text;
  same.replace(same.find(";rport,"), 6, "");
  auto no_rport = mustParse(same);
  EXPECT_FALSE(sip::receivedVia(no_rport.vias()->front(), ip, 5060).has_value());
  auto other = sip::receivedVia(no_rport.vias()->front(), *common::ipLiteral("203.0.113.7"), 4000);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(*other, "SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK776asdhds;received=203.0.113.7");
}

// RFC 3261 §25.1: Supported and Allow may be empty (baresip sends "Supported:"); Require,
// Proxy-Require and Unsupported name at least one option tag.
TEST(Message, EmptySupportedAndAllowAreEmptyLists) {
  std::string text = std::string(kInvite);
  text.insert(text.find("Content-Type"), "Supported:\r\nAllow: \r\n");
  auto m = mustParse(text);
  EXPECT_TRUE(sip::validate(m).has_value());
  ASSERT_TRUE(m.tokens(sip::HeaderId::kSupported).has_value());
  EXPECT_TRUE(m.tokens(sip::HeaderId::kSupported)->empty());
  for (std::string_view name : {"Require", "Proxy-Require", "Unsupported"}) {
    std::string bad = std::string(kInvite);
    bad.insert(bad.find("Content-Type"), std::string(name) + ":\r\n");
    auto b = mustParse(bad);
    auto v = sip::validate(b);
    ASSERT_FALSE(v.has_value()) << name;
    EXPECT_EQ(v.error().status, 400) << name;
  }
}

// The bad inputs the foundation issue names, each with its RFC answer.
TEST(Message, BadInputGetsTheRfcAnswer) {
  std::string huge = std::string(kInvite.substr(0, kInvite.find("Content-Type"))) +
                     "X-Pad: " + std::string(70000, 'a') + "\r\nContent-Length: 0\r\n\r\n";
  auto big = sip::Message::parse(huge);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().status, 513);

  auto nocolon = sip::Message::parse(
      "OPTIONS sip:x SIP/2.0\r\nVia SIP/2.0/UDP h\r\nContent-Length: 0\r\n\r\n");
  ASSERT_FALSE(nocolon.has_value());
  EXPECT_EQ(nocolon.error().status, 400);

  std::string lying = std::string(kInvite);
  lying.replace(lying.find("Content-Length: 4"), 17, "Content-Length: 40");
  auto lie = sip::Message::parse(lying);
  ASSERT_FALSE(lie.has_value());
  EXPECT_EQ(lie.error().status, 400);

  std::string nul = std::string(kInvite);
  nul[nul.find("Call-ID: ") + 10] = '\0';
  auto n = sip::Message::parse(nul);
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error().status, 400);

  auto bad_resp = sip::Message::parse("SIP/2.0 2000 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_FALSE(bad_resp.has_value());
  EXPECT_EQ(bad_resp.error().status, 0);  // a response is dropped, never answered

  for (std::string_view junk : {"", "\r\n", "garbage", "INVITE\r\n\r\n", "INVITE sip:x\r\n\r\n",
                                "INVITE sip:x SIP/2.0", "SIP/2.0\r\n\r\n"}) {
    EXPECT_FALSE(sip::Message::parse(junk).has_value()) << junk;
  }
}

TEST(Message, StreamModeNeedsTheWholeBody) {
  sip::ParseOptions stream;
  stream.datagram = false;
  auto m = sip::Message::parse(kInvite.substr(0, kInvite.size() - 2), stream);
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, common::ErrorCode::kIncomplete);
}

// --- The mandatory-header guarantee (sip/validate.h) ------------------------------------
// Everything after the transport dereferences Via, From, To, Call-ID and CSeq without
// checking (the transport shards by *callId()), so validate() must refuse a message lacking
// any one of them, whichever kind it is: a request with the 400 a server answers (without
// Via: dropped, an answer could not travel back), a response dropped (status 0).

constexpr std::string_view kResponse =
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1\r\n"
    "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:bob@192.0.2.4>\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

// `text` without its header lines named `name` (long form, as the samples write them).
std::string without(std::string_view text, std::string_view name) {
  std::string out;
  size_t removed = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find("\r\n", pos);
    end = end == std::string_view::npos ? text.size() : end + 2;
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == ':') {
      ++removed;
    } else {
      out.append(line);
    }
    pos = end;
  }
  EXPECT_EQ(removed, 1u) << name;
  return out;
}

struct MandatoryHeader {
  std::string_view name;
  int request_status;  // what a server answers a request without it (0: dropped)
};
void PrintTo(const MandatoryHeader& h, std::ostream* os) {
  *os << h.name;
}

class MandatoryHeaderTest : public ::testing::TestWithParam<MandatoryHeader> {};

TEST_P(MandatoryHeaderTest, ARequestWithoutItIsRefused) {
  const MandatoryHeader& h = GetParam();
  ASSERT_TRUE(sip::validate(mustParse(kInvite)).has_value());
  auto m = mustParse(without(kInvite, h.name));
  auto v = sip::validate(m);
  ASSERT_FALSE(v.has_value()) << "a request without " << h.name << " passed validate()";
  EXPECT_EQ(v.error().status, h.request_status) << h.name;
  EXPECT_NE(v.error().reason.find(h.name), std::string::npos) << v.error().reason;
  // What `sip lint` and a server conclude from the same bytes.
  auto verdict = sip::checkDatagram(without(kInvite, h.name));
  EXPECT_FALSE(verdict.valid) << h.name;
  EXPECT_EQ(verdict.status, h.request_status) << h.name;
}

TEST_P(MandatoryHeaderTest, AResponseWithoutItIsDropped) {
  const MandatoryHeader& h = GetParam();
  ASSERT_TRUE(sip::validate(mustParse(kResponse)).has_value());
  auto m = mustParse(without(kResponse, h.name));
  auto v = sip::validate(m);
  ASSERT_FALSE(v.has_value()) << "a response without " << h.name << " passed validate()";
  EXPECT_EQ(v.error().status, 0) << h.name;  // a response is never answered
  EXPECT_NE(v.error().reason.find(h.name), std::string::npos) << v.error().reason;
  auto verdict = sip::checkDatagram(without(kResponse, h.name));
  EXPECT_FALSE(verdict.valid) << h.name;
  EXPECT_EQ(verdict.status, 0) << h.name;
}

INSTANTIATE_TEST_SUITE_P(EveryOne, MandatoryHeaderTest,
                         ::testing::Values(MandatoryHeader{"Via", 0}, MandatoryHeader{"From", 400},
                                           MandatoryHeader{"To", 400},
                                           MandatoryHeader{"Call-ID", 400},
                                           MandatoryHeader{"CSeq", 400}),
                         [](const auto& p) {
                           std::string n(p.param.name);
                           std::erase(n, '-');
                           return n;
                         });

// Max-Forwards is mandatory in RFC 3261 requests but not in RFC 2543 ones (RFC 4475 inv2543
// must stay valid): the guarantee is "well-formed when present". A proxy forwards a request
// without it with 70 (§16.6 step 3; MaxForwardsAddedWhenAbsent and the edge's tests).
TEST(Message, MaxForwardsIsCheckedWhenPresentAndMayBeAbsent) {
  auto absent = mustParse(without(kInvite, "Max-Forwards"));
  EXPECT_TRUE(sip::validate(absent).has_value());
  EXPECT_EQ(absent.maxForwards().error().code, common::ErrorCode::kNotFound);
  for (std::string_view bad : {"abc", "256", "-1", ""}) {
    std::string text = std::string(kInvite);
    text.replace(text.find("Max-Forwards: 70"), 16, "Max-Forwards: " + std::string(bad));
    auto m = sip::Message::parse(text);
    auto v = m ? sip::validate(*m) : common::Status(m.error());
    ASSERT_FALSE(v.has_value()) << "Max-Forwards: " << bad;
    EXPECT_EQ(v.error().status, 400) << "Max-Forwards: " << bad;
  }
  std::string two = std::string(kInvite);
  two.insert(two.find("Max-Forwards: 70"), "Max-Forwards: 69\r\n");
  auto v = sip::validate(mustParse(two));
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().status, 400);
}

// --- Content-Length at the boundary (RFC 3261 §18.3) ------------------------------------
// In a datagram, octets after the body are discarded, and a body that ends before
// Content-Length says is an error: a request gets 400, a response is dropped. The message
// under test lives in a heap block of exactly its size, so a parser that read past it would
// be an ASan report (the parser copies the bytes into a padded buffer of its own, so the
// refusal itself is what the assertions pin).

std::string withContentLength(std::string_view text, size_t length) {
  std::string out(text);
  size_t at = out.find("Content-Length: ");
  size_t eol = out.find("\r\n", at);
  out.replace(at, eol - at, "Content-Length: " + std::to_string(length));
  return out;
}

common::Result<sip::Message> parseExact(const std::string& text, bool datagram) {
  auto block = std::make_unique<char[]>(text.size());
  std::memcpy(block.get(), text.data(), text.size());
  sip::ParseOptions o;
  o.datagram = datagram;
  return sip::Message::parse(std::string_view(block.get(), text.size()), o);
}

TEST(Message, ContentLengthBoundaryInADatagram) {
  const std::string_view body = "v=0\n";  // kInvite's 4 octets
  for (bool response : {false, true}) {
    std::string text = std::string(kInvite);
    if (response) {
      text = std::string(kResponse);
      text.replace(text.find("Content-Length: 0\r\n"), 19,
                   "Content-Type: application/sdp\r\nContent-Length: 4\r\n");
      text += body;
    }
    SCOPED_TRACE(response ? "response" : "request");
    // One octet short: the last is not the message's.
    auto shorter = parseExact(withContentLength(text, body.size() - 1), true);
    ASSERT_TRUE(shorter.has_value()) << shorter.error().reason;
    EXPECT_EQ(shorter->body(), body.substr(0, body.size() - 1));
    EXPECT_TRUE(sip::validate(*shorter).has_value());
    // Exact.
    auto exact = parseExact(withContentLength(text, body.size()), true);
    ASSERT_TRUE(exact.has_value()) << exact.error().reason;
    EXPECT_EQ(exact->body(), body);
    EXPECT_EQ(exact->contentLength().value_or(0), body.size());
    // One octet more than the datagram holds: refused, never a body reaching past it.
    auto longer = parseExact(withContentLength(text, body.size() + 1), true);
    ASSERT_FALSE(longer.has_value()) << "Content-Length one octet past the datagram accepted";
    EXPECT_EQ(longer.error().status, response ? 0 : 400);
    auto verdict = sip::checkDatagram(withContentLength(text, body.size() + 1));
    EXPECT_FALSE(verdict.valid);
    EXPECT_EQ(verdict.status, response ? 0 : 400);
  }
}

// On a stream the framer has cut the message; a Content-Length one octet longer than the
// bytes handed over means the body is not all there yet.
TEST(Message, ContentLengthBoundaryOnAStream) {
  const std::string_view body = "v=0\n";
  auto shorter = parseExact(withContentLength(kInvite, body.size() - 1), false);
  ASSERT_TRUE(shorter.has_value()) << shorter.error().reason;
  EXPECT_EQ(shorter->body(), body.substr(0, body.size() - 1));
  auto exact = parseExact(withContentLength(kInvite, body.size()), false);
  ASSERT_TRUE(exact.has_value()) << exact.error().reason;
  EXPECT_EQ(exact->body(), body);
  auto longer = parseExact(withContentLength(kInvite, body.size() + 1), false);
  ASSERT_FALSE(longer.has_value()) << "Content-Length one octet past the bytes accepted";
  EXPECT_EQ(longer.error().code, common::ErrorCode::kIncomplete);
}

}  // namespace
