#include "edge/registrar.h"

#include <gtest/gtest.h>

#include <string>

namespace {

constexpr int64_t kNow = 1'800'000'000;

transport::Flow udpFlow() {
  transport::Flow f;
  f.protocol = transport::Protocol::kUdp;
  f.local = *transport::Address::parse("127.0.0.1:5060");
  f.remote = *transport::Address::parse("203.0.113.9:40000");
  return f;
}

sip::Message reg(std::string extra, std::string call_id = "c1", int cseq = 1) {
  std::string text =
      "REGISTER sip:example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK" +
      std::to_string(cseq) +
      ";rport\r\n"
      "From: <sip:alice@example.com>;tag=1\r\n"
      "To: \"Alice\" <sip:alice@EXAMPLE.com:5060;transport=udp>\r\n"
      "Call-ID: " +
      call_id + "\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\n" + extra +
      "Content-Length: 0\r\n\r\n";
  auto m = sip::Message::parse(text);
  EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().reason);
  return std::move(*m);
}

std::string header(const edge::RegisterPlan& p, std::string_view name, size_t nth = 0) {
  for (const auto& [n, v] : p.headers) {
    if (n == name && nth-- == 0) return v;
  }
  return {};
}

TEST(Registrar, AddsABindingWithDefaultsAndNatFlow) {
  edge::RegistrarOptions o;
  auto req = reg("Contact: <sip:alice@10.0.0.5:5060>\r\nUser-Agent: phone/1.0\r\n");
  auto plan = edge::planRegister(req, udpFlow(), {}, kNow, o);
  ASSERT_EQ(plan.status, 200) << plan.reason;
  EXPECT_EQ(plan.aor, "sip:alice@example.com");
  ASSERT_EQ(plan.next.size(), 1u);
  const edge::Binding& b = plan.next[0];
  EXPECT_EQ(b.contact, "sip:alice@10.0.0.5:5060");
  EXPECT_EQ(b.expires_at, kNow + 3600);
  EXPECT_EQ(b.q, 1000);
  EXPECT_EQ(b.call_id, "c1");
  EXPECT_EQ(b.flow.remote.toString(), "203.0.113.9:40000");
  EXPECT_EQ(b.user_agent, "phone/1.0");
  ASSERT_EQ(plan.upserts.size(), 1u);
  EXPECT_TRUE(plan.removed.empty());
  EXPECT_EQ(header(plan, "Contact"), "<sip:alice@10.0.0.5:5060>;expires=3600");
}

TEST(Registrar, ExpiresParameterBeatsHeaderAndMaximumApplies) {
  edge::RegistrarOptions o;
  o.max_expires = 1800;
  auto req =
      reg("Contact: <sip:a@10.0.0.5>;expires=120, <sip:a@10.0.0.6>;q=0.5\r\nExpires: 7200\r\n");
  auto plan = edge::planRegister(req, udpFlow(), {}, kNow, o);
  ASSERT_EQ(plan.status, 200);
  ASSERT_EQ(plan.next.size(), 2u);
  EXPECT_EQ(plan.next[0].expires_at, kNow + 120);
  EXPECT_EQ(plan.next[1].expires_at, kNow + 1800);
  EXPECT_EQ(plan.next[1].q, 500);
  EXPECT_EQ(header(plan, "Contact", 1), "<sip:a@10.0.0.6>;expires=1800;q=0.5");
}

TEST(Registrar, TooBriefIs423WithMinExpires) {
  edge::RegistrarOptions o;
  o.min_expires = 60;
  auto plan = edge::planRegister(reg("Contact: <sip:a@10.0.0.5>\r\nExpires: 30\r\n"), udpFlow(), {},
                                 kNow, o);
  EXPECT_EQ(plan.status, 423);
  EXPECT_EQ(header(plan, "Min-Expires"), "60");
}

TEST(Registrar, RefreshRemoveAndOrdering) {
  edge::RegistrarOptions o;
  auto first =
      edge::planRegister(reg("Contact: <sip:a@10.0.0.5>\r\n", "c1", 1), udpFlow(), {}, kNow, o);
  ASSERT_EQ(first.status, 200);
  // Refresh with a higher CSeq moves the expiry.
  auto refresh = edge::planRegister(reg("Contact: <sip:a@10.0.0.5>;expires=600\r\n", "c1", 2),
                                    udpFlow(), first.next, kNow + 10, o);
  ASSERT_EQ(refresh.status, 200);
  ASSERT_EQ(refresh.next.size(), 1u);
  EXPECT_EQ(refresh.next[0].expires_at, kNow + 610);
  EXPECT_EQ(refresh.next[0].cseq, 2u);
  // The same Call-ID with an old CSeq arrives late: refused, nothing changes.
  auto stale = edge::planRegister(reg("Contact: <sip:a@10.0.0.5>;expires=0\r\n", "c1", 2),
                                  udpFlow(), refresh.next, kNow + 11, o);
  EXPECT_EQ(stale.status, 500);
  EXPECT_TRUE(stale.upserts.empty());
  // Another Call-ID may update whatever its CSeq (§10.3 step 7).
  auto other = edge::planRegister(reg("Contact: <sip:a@10.0.0.5>;expires=0\r\n", "c2", 1),
                                  udpFlow(), refresh.next, kNow + 12, o);
  ASSERT_EQ(other.status, 200);
  EXPECT_TRUE(other.next.empty());
  EXPECT_EQ(other.removed, std::vector<std::string>{"sip:a@10.0.0.5"});
  EXPECT_TRUE(other.headers.empty());
}

TEST(Registrar, ContactsCompareAsUris) {
  edge::RegistrarOptions o;
  auto first = edge::planRegister(reg("Contact: <sip:a@EXAMPLE.net;transport=udp>\r\n", "c1", 1),
                                  udpFlow(), {}, kNow, o);
  auto second = edge::planRegister(reg("Contact: <sip:a@example.net;transport=UDP>\r\n", "c1", 2),
                                   udpFlow(), first.next, kNow, o);
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.next.size(), 1u);
}

TEST(Registrar, WildcardRemovesEverything) {
  edge::RegistrarOptions o;
  auto two = edge::planRegister(reg("Contact: <sip:a@10.0.0.5>, <sip:a@10.0.0.6>\r\n"), udpFlow(),
                                {}, kNow, o);
  ASSERT_EQ(two.next.size(), 2u);
  auto star = edge::planRegister(reg("Contact: *\r\nExpires: 0\r\n", "c9", 1), udpFlow(), two.next,
                                 kNow, o);
  ASSERT_EQ(star.status, 200);
  EXPECT_TRUE(star.next.empty());
  EXPECT_EQ(star.removed.size(), 2u);
  EXPECT_EQ(edge::planRegister(reg("Contact: *\r\n", "c9", 1), udpFlow(), two.next, kNow, o).status,
            400);
  EXPECT_EQ(edge::planRegister(reg("Contact: *\r\nExpires: 60\r\n", "c9", 1), udpFlow(), two.next,
                               kNow, o)
                .status,
            400);
  // Same Call-ID with an old CSeq: refused.
  EXPECT_EQ(
      edge::planRegister(reg("Contact: *\r\nExpires: 0\r\n", "c1", 1), udpFlow(), two.next, kNow, o)
          .status,
      500);
}

TEST(Registrar, QueryPathAndLimits) {
  edge::RegistrarOptions o;
  o.max_contacts = 2;
  auto first =
      edge::planRegister(reg("Contact: <sip:a@10.0.0.5>;+sip.instance=\"<urn:uuid:1>\";reg-id=1\r\n"
                             "Path: <sip:edge1.example.com;lr>, <sip:edge2.example.com;lr>\r\n"),
                         udpFlow(), {}, kNow, o);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.next[0].path,
            (std::vector<std::string>{"<sip:edge1.example.com;lr>", "<sip:edge2.example.com;lr>"}));
  EXPECT_EQ(first.next[0].instance_id, "<urn:uuid:1>");
  EXPECT_EQ(first.next[0].reg_id, "1");
  auto query = edge::planRegister(reg("", "q", 1), udpFlow(), first.next, kNow + 100, o);
  ASSERT_EQ(query.status, 200);
  EXPECT_TRUE(query.upserts.empty());
  EXPECT_EQ(header(query, "Contact"), "<sip:a@10.0.0.5>;expires=3500");
  auto many = edge::planRegister(reg("Contact: <sip:a@1.1.1.1>, <sip:a@1.1.1.2>\r\n", "c2", 1),
                                 udpFlow(), first.next, kNow, o);
  EXPECT_EQ(many.status, 403);
}

TEST(Registrar, BadRequests) {
  edge::RegistrarOptions o;
  EXPECT_EQ(edge::planRegister(reg("Contact: <sip:a@10.0.0.5>\r\nExpires: soon\r\n"), udpFlow(), {},
                               kNow, o)
                .status,
            400);
  auto tel = sip::Message::parse(
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <tel:+15551234>;tag=1\r\nTo: <tel:+15551234>\r\nCall-ID: a\r\n"
      "CSeq: 1 REGISTER\r\nContact: <sip:a@h>\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(tel.has_value());
  EXPECT_EQ(edge::planRegister(*tel, udpFlow(), {}, kNow, o).status, 404);
}

TEST(Location, LookupOrdersByQAndDropsExpired) {
  edge::Location loc;
  edge::Binding a;
  a.aor = "sip:a@x";
  a.contact = "sip:a@1";
  a.q = 500;
  a.expires_at = kNow + 10;
  edge::Binding b = a;
  b.contact = "sip:a@2";
  b.q = 1000;
  edge::Binding c = a;
  c.contact = "sip:a@3";
  c.expires_at = kNow - 1;
  loc.replace("sip:a@x", {a, b, c});
  auto got = loc.lookup("sip:a@x", kNow);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].contact, "sip:a@2");
  EXPECT_EQ(loc.size(), 3u);
  EXPECT_EQ(loc.purgeExpired(kNow), 1u);
  EXPECT_EQ(loc.size(), 2u);
  EXPECT_EQ(loc.purgeExpired(kNow + 11), 2u);
  EXPECT_EQ(loc.aorCount(), 0u);
  loc.load({a, b});
  EXPECT_EQ(loc.lookup("sip:a@x", kNow).size(), 2u);
}

TEST(Location, FindByContactMatchesUserHostPortAndTransport) {
  edge::Location loc;
  edge::Binding a;
  a.aor = "sip:alice@example.com";
  a.contact = "sip:alice@192.168.1.20:5062;transport=tcp;ob";
  a.expires_at = kNow + 60;
  a.flow = udpFlow();
  a.flow.protocol = transport::Protocol::kTcp;
  a.flow.connection_id = 7;
  edge::Binding b = a;
  b.contact = "sip:alice@192.168.1.21";
  loc.replace(a.aor, {a, b});
  auto uri = [](std::string_view text) { return *sip::Uri::parse(text); };
  // Parameters other than transport, host case and the default port do not matter.
  auto found = loc.findByContact(uri("sip:alice@192.168.1.20:5062;transport=TCP"), kNow);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->flow.connection_id, 7u);
  EXPECT_TRUE(loc.findByContact(uri("sip:alice@192.168.1.21:5060"), kNow).has_value());
  EXPECT_FALSE(loc.findByContact(uri("sip:alice@192.168.1.20:5062"), kNow).has_value());  // udp
  EXPECT_FALSE(loc.findByContact(uri("sip:bob@192.168.1.20:5062;transport=tcp"), kNow));
  EXPECT_FALSE(loc.findByContact(uri("sip:alice@192.168.1.21"), kNow + 61).has_value());
  // Gone with the binding: replaced, purged, or removed.
  loc.replace(a.aor, {b});
  EXPECT_FALSE(loc.findByContact(uri("sip:alice@192.168.1.20:5062;transport=tcp"), kNow));
  EXPECT_TRUE(loc.findByContact(uri("sip:alice@192.168.1.21"), kNow).has_value());
  EXPECT_EQ(loc.purgeExpired(kNow + 61), 1u);
  loc.load({b});
  EXPECT_FALSE(loc.findByContact(uri("sip:alice@192.168.1.21"), kNow + 61).has_value());
  EXPECT_TRUE(loc.findByContact(uri("sip:alice@192.168.1.21"), kNow).has_value());
  loc.replace(a.aor, {});
  EXPECT_FALSE(loc.findByContact(uri("sip:alice@192.168.1.21"), kNow).has_value());
}

}  // namespace
