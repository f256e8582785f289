// The 49 RFC 4475 torture messages: every verdict of the folder's README, and what the valid
// ones parse to.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sip/message.h"
#include "sip/text.h"
#include "sip/validate.h"
#include "testdata.h"

namespace {

constexpr const char* kDir = "sip/rfc4475";

// file -> expected status: -1 valid, 0 dropped, otherwise the answer.
const std::map<std::string, int>& expectedVerdicts() {
  static const std::map<std::string, int> kVerdicts = {
      {"wsinv", -1},     {"intmeth", -1},     {"esc01", -1},       {"escnull", -1},
      {"esc02", -1},     {"lwsdisp", -1},     {"longreq", -1},     {"dblreq", -1},
      {"semiuri", -1},   {"transports", -1},  {"mpart01", -1},     {"unreason", -1},
      {"noreason", -1},  {"badinv01", 400},   {"clerr", 400},      {"ncl", 400},
      {"scalar02", 400}, {"scalarlg", 0},     {"quotbal", 400},    {"ltgtruri", 400},
      {"lwsruri", 400},  {"lwsstart", 400},   {"trws", 400},       {"escruri", 400},
      {"baddate", 400},  {"regbadct", 400},   {"badaspec", 400},   {"baddn", 400},
      {"badvers", 505},  {"mismatch01", 400}, {"mismatch02", 400}, {"bigcode", 0},
      {"badbranch", -1}, {"insuf", 400},      {"unkscm", -1},      {"novelsc", -1},
      {"unksm2", -1},    {"bext01", -1},      {"invut", -1},       {"regaut01", -1},
      {"multi01", 400},  {"mcl01", 400},      {"bcast", -1},       {"zeromf", -1},
      {"cparam01", -1},  {"cparam02", -1},    {"regescrt", -1},    {"sdp01", -1},
      {"inv2543", -1},
  };
  return kVerdicts;
}

class Rfc4475 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testdata::available(kDir)) GTEST_SKIP() << "shared testdata absent: " << testdata::root();
  }
  std::string load(const std::string& name) {
    auto bytes = testdata::read(testdata::root() / kDir / (name + ".dat"));
    EXPECT_TRUE(bytes.has_value()) << name;
    return bytes.value_or("");
  }
  sip::Message parse(const std::string& name) {
    bytes_ = load(name);
    auto m = sip::Message::parse(bytes_);
    EXPECT_TRUE(m.has_value()) << name << ": " << (m ? "" : m.error().reason);
    if (!m) std::abort();
    return std::move(m).value();
  }
  std::string bytes_;
};

TEST_F(Rfc4475, EveryFileHasItsVerdict) {
  std::set<std::string> seen;
  for (const auto& entry : std::filesystem::directory_iterator(testdata::root() / kDir)) {
    if (entry.path().extension() != ".dat") continue;
    seen.insert(entry.path().stem().string());
  }
  ASSERT_EQ(seen.size(), 49u);
  for (const auto& [name, expected] : expectedVerdicts()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(seen.count(name));
    sip::Verdict v = sip::checkDatagram(load(name));
    if (expected < 0) {
      EXPECT_TRUE(v.valid) << v.status << " " << v.reason;
    } else {
      EXPECT_FALSE(v.valid);
      EXPECT_EQ(v.status, expected) << v.reason;
      EXPECT_FALSE(v.reason.empty());
    }
  }
}

TEST_F(Rfc4475, WsinvTortuousInvite) {
  sip::Message m = parse("wsinv");
  EXPECT_EQ(m.method(), sip::Method::kInvite);
  EXPECT_EQ(m.requestUri().user(), "vivekg");
  EXPECT_TRUE(m.requestUri().params().has("unknownparam"));
  const auto& vias = m.vias();
  ASSERT_TRUE(vias.has_value());
  ASSERT_EQ(vias->size(), 3u);
  EXPECT_EQ((*vias)[0].transport, "UDP");
  EXPECT_EQ((*vias)[0].host, "192.0.2.2");
  EXPECT_EQ((*vias)[0].branch().value_or(""), "390skdjuw");
  EXPECT_EQ((*vias)[1].transport, "TCP");
  EXPECT_EQ((*vias)[1].host, "spindle.example.com");
  EXPECT_EQ((*vias)[1].branch().value_or(""), "z9hG4bK9ikj8");
  EXPECT_EQ((*vias)[2].host, "192.168.255.111");
  EXPECT_EQ((*vias)[2].branch().value_or(""), "z9hG4bK30239");
  ASSERT_TRUE(m.to().has_value());
  EXPECT_EQ(m.to()->tag().value_or(""), "1918181833n");
  EXPECT_FALSE(m.to()->angle_brackets);
  ASSERT_TRUE(m.from().has_value());
  EXPECT_EQ(sip::unquote(m.from()->display_name), "J Rosenberg \\\"");
  EXPECT_EQ(m.from()->tag().value_or(""), "98asjd8");
  EXPECT_EQ(m.maxForwards().value_or(0), 68u);
  ASSERT_TRUE(m.cseq().has_value());
  EXPECT_EQ(m.cseq()->number, 9u);
  EXPECT_EQ(m.cseq()->method, "INVITE");
  EXPECT_EQ(m.callId().value_or(""), "wsinv.ndaksdj@192.0.2.1");
  const auto& contacts = m.contacts();
  ASSERT_TRUE(contacts.has_value());
  ASSERT_EQ(contacts->contacts.size(), 1u);
  const sip::NameAddr& c = contacts->contacts[0];
  EXPECT_EQ(sip::unquote(c.display_name), "Quoted string \"\"");
  EXPECT_EQ(c.qMillis().value_or(-1), 330);
  EXPECT_EQ(c.params.find("newparam").value_or(""), "newvalue");
  EXPECT_TRUE(c.params.has("secondparam"));
  ASSERT_TRUE(m.routes().has_value());
  ASSERT_EQ(m.routes()->size(), 1u);
  EXPECT_TRUE((*m.routes())[0].uri.looseRouting());
  EXPECT_EQ((*m.routes())[0].uri.params().find("unknownwith").value_or(""), "value");
  const sip::HeaderField* nf = m.findHeader("NewFangledHeader");
  ASSERT_NE(nf, nullptr);
  EXPECT_EQ(nf->value.substr(0, 16), "newfangled value");
  EXPECT_NE(nf->value.find("continued newfangled value"), std::string_view::npos);
  EXPECT_EQ(m.headerValue(sip::HeaderId::kSubject), "");
  EXPECT_EQ(m.headerCount(sip::HeaderId::kSubject), 1u);
  EXPECT_EQ(m.contentLength().value_or(0), 150u);
  EXPECT_EQ(m.body().size(), 150u);
  EXPECT_EQ(m.serialize(), bytes_);  // unchanged: byte for byte
}

TEST_F(Rfc4475, Escapes) {
  sip::Message m = parse("esc01");
  EXPECT_EQ(sip::percentDecode(m.requestUri().user()), "sips:user@example.com");
  EXPECT_EQ(sip::percentDecode(m.to()->uri.user()), "user");
  EXPECT_EQ(sip::percentDecode(m.from()->uri.user()), "I have spaces");
  ASSERT_TRUE(m.contacts().has_value());
  const auto& cu = m.contacts()->contacts[0].uri;
  EXPECT_EQ(sip::percentDecode(cu.user()), "caller");
  ASSERT_EQ(cu.params().size(), 2u);
  EXPECT_EQ(sip::percentDecode(cu.params()[0].name), "lr");
  EXPECT_EQ(sip::percentDecode(cu.params()[1].value), "value%41");

  sip::Message n = parse("escnull");
  ASSERT_TRUE(n.contacts().has_value());
  ASSERT_EQ(n.contacts()->contacts.size(), 2u);
  EXPECT_EQ(sip::percentDecode(n.contacts()->contacts[1].uri.user()), std::string(2, '\0'));

  sip::Message e = parse("esc02");
  EXPECT_EQ(e.method(), sip::Method::kOther);
  EXPECT_EQ(e.methodText(), "RE%47IST%45R");
  EXPECT_EQ(e.headerCount(sip::HeaderId::kContact), 2u);  // C%6Fntact is another header
  EXPECT_NE(e.findHeader("C%6Fntact"), nullptr);
}

TEST_F(Rfc4475, UriShapes) {
  sip::Message semi = parse("semiuri");
  EXPECT_EQ(semi.requestUri().user(), "user;par=u%40example.net");
  EXPECT_EQ(semi.requestUri().host(), "example.com");

  sip::Message unk = parse("unksm2");
  EXPECT_EQ(unk.to()->uri.scheme(), sip::UriScheme::kOther);
  EXPECT_EQ(unk.to()->uri.schemeText(), "isbn");
  EXPECT_EQ(unk.contacts()->contacts[0].uri.schemeText(), "name");

  sip::Message c1 = parse("cparam01");
  const sip::NameAddr& a = c1.contacts()->contacts[0];
  EXPECT_FALSE(a.angle_brackets);
  EXPECT_TRUE(a.params.has("unknownparam"));
  EXPECT_FALSE(a.uri.params().has("unknownparam"));
  sip::Message c2 = parse("cparam02");
  const sip::NameAddr& b = c2.contacts()->contacts[0];
  EXPECT_TRUE(b.uri.params().has("unknownparam"));
  EXPECT_FALSE(b.params.has("unknownparam"));

  sip::Message r = parse("regescrt");
  EXPECT_EQ(r.contacts()->contacts[0].uri.headers(), "Route=%3Csip:sip.example.com%3E");

  sip::Message o = parse("unkscm");
  EXPECT_EQ(o.requestUri().scheme(), sip::UriScheme::kOther);
  EXPECT_EQ(o.requestUri().opaque(), "totallyopaquecontent");
}

TEST_F(Rfc4475, ViasAndResponses) {
  sip::Message t = parse("transports");
  ASSERT_TRUE(t.vias().has_value());
  std::vector<std::string> transports;
  for (const auto& v : *t.vias()) transports.emplace_back(v.transport);
  EXPECT_EQ(transports, (std::vector<std::string>{"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"}));

  sip::Message u = parse("unreason");
  EXPECT_TRUE(u.isResponse());
  EXPECT_EQ(u.statusCode(), 200);
  EXPECT_EQ(u.reasonPhrase().substr(0, 13), "= 2**3 * 5**2");
  sip::Message n = parse("noreason");
  EXPECT_EQ(n.statusCode(), 100);
  EXPECT_EQ(n.reasonPhrase(), "");

  sip::Message b = parse("bcast");
  ASSERT_EQ(b.vias()->size(), 2u);
  EXPECT_EQ((*b.vias())[1].host, "255.255.255.255");

  sip::Message bb = parse("badbranch");
  EXPECT_EQ((*bb.vias())[0].branch().value_or("x"), "z9hG4bK");
  EXPECT_FALSE((*bb.vias())[0].hasRfc3261Branch());
}

TEST_F(Rfc4475, OddButValid) {
  sip::Message d = parse("dblreq");
  EXPECT_EQ(d.method(), sip::Method::kRegister);
  EXPECT_EQ(d.body(), "");
  EXPECT_LT(d.raw().size(), bytes_.size());  // the trailing INVITE is not part of it
  EXPECT_EQ(d.raw().find("INVITE"), std::string_view::npos);

  sip::Message inv = parse("inv2543");
  EXPECT_EQ(inv.maxForwards().error().code, common::ErrorCode::kNotFound);
  EXPECT_FALSE(inv.contentLength().has_value());
  EXPECT_FALSE((*inv.vias())[0].branch().has_value());
  EXPECT_GT(inv.body().size(), 0u);

  sip::Message mp = parse("mpart01");
  auto ct = mp.contentType();
  ASSERT_TRUE(ct.has_value());
  EXPECT_EQ(ct->type, "multipart");
  EXPECT_EQ(ct->subtype, "mixed");
  EXPECT_TRUE(ct->params.has("boundary"));

  sip::Message im = parse("intmeth");
  EXPECT_EQ(im.method(), sip::Method::kOther);
  EXPECT_EQ(im.methodText(), "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(im.cseq()->method, im.methodText());
  EXPECT_EQ(im.from()->tag().value_or(""), "_token~1'+`*%!-.");
  EXPECT_EQ(im.requestUri().host(), "example.com");

  sip::Message lr = parse("longreq");
  ASSERT_TRUE(lr.vias().has_value());
  EXPECT_EQ(lr.vias()->size(), 34u);
  EXPECT_EQ(lr.to()->uri.port(), 6000);
  EXPECT_TRUE(lr.to()->uri.params().has(
      "verylonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong"
      "longlonglongParameterNameWithNoValue"));
  EXPECT_GT(lr.from()->tag().value_or("").size(), 150u);

  sip::Message z = parse("zeromf");
  EXPECT_EQ(z.maxForwards().value_or(99), 0u);
}

}  // namespace
