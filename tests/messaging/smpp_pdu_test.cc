#include "messaging/smpp_pdu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

namespace smpp = messaging::smpp;
using smpp::Pdu;
using smpp::Tlv;

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int v : b) out.push_back(char(v));
  return out;
}

std::string u32(uint32_t v) {
  return bytes({int(v >> 24), int((v >> 16) & 0xFF), int((v >> 8) & 0xFF), int(v & 0xFF)});
}

// A PDU from a header and a body written by hand; command_length is computed.
std::string pduBytes(uint32_t id, uint32_t status, uint32_t seq, const std::string& body) {
  return u32(uint32_t(16 + body.size())) + u32(id) + u32(status) + u32(seq) + body;
}

std::string cstr(const std::string& s) {
  return s + std::string(1, '\0');
}

// The mandatory body of a submit_sm/deliver_sm with the given fields, the rest empty/zero.
std::string smBody(const std::string& source, const std::string& dest, const std::string& sm,
                   const std::string& service_type = "") {
  std::string b = cstr(service_type) + bytes({1, 1}) + cstr(source) + bytes({1, 1}) + cstr(dest);
  b += bytes({0, 0, 0}) + cstr("") + cstr("") + bytes({0, 0, 0, 0});
  b += char(sm.size());
  return b + sm;
}

Pdu mustDecode(const std::string& wire) {
  auto p = smpp::decode(wire);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().reason);
  return p.value_or(Pdu{});
}

std::string decodeError(const std::string& wire) {
  auto p = smpp::decode(wire);
  EXPECT_FALSE(p.has_value());
  return p ? std::string() : p.error().reason;
}

Pdu submitSm() {
  Pdu p;
  p.command_id = smpp::kSubmitSm;
  p.sequence = 7;
  p.source_addr_ton = 1;
  p.source_addr_npi = 1;
  p.source_addr = "15550100";
  p.dest_addr_ton = 1;
  p.dest_addr_npi = 1;
  p.destination_addr = "15550199";
  p.registered_delivery = 1;
  p.short_message = "Hello";
  p.tlvs.push_back(Tlv{smpp::kTagSarMsgRefNum, bytes({0x00, 0x2A})});
  return p;
}

TEST(SmppPdu, SubmitSmExactBytes) {
  // SMPP 3.4 §4.4.1, field by field.
  std::string expected = bytes({0x00, 0x00, 0x00, 0x3C,  // command_length 60
                                0x00, 0x00, 0x00, 0x04,  // submit_sm
                                0x00, 0x00, 0x00, 0x00,  // command_status
                                0x00, 0x00, 0x00, 0x07,  // sequence_number
                                0x00,                    // service_type ""
                                0x01, 0x01,              // source_addr_ton, _npi
                                '1',  '5',  '5',  '5',  '0',  '1', '0', '0', 0x00,  // source_addr
                                0x01, 0x01,                                         // dest ton/npi
                                '1',  '5',  '5',  '5',  '0',  '1', '9', '9', 0x00,  // destination
                                0x00, 0x00, 0x00,  // esm_class, protocol_id, priority_flag
                                0x00, 0x00,        // schedule_delivery_time, validity_period
                                0x01,              // registered_delivery
                                0x00, 0x00, 0x00,  // replace_if_present, data_coding, default id
                                0x05, 'H',  'e',  'l',  'l',  'o',     // sm_length, short_message
                                0x02, 0x0C, 0x00, 0x02, 0x00, 0x2A});  // sar_msg_ref_num TLV
  ASSERT_EQ(expected.size(), 60u);
  EXPECT_EQ(smpp::encode(submitSm()), expected);
  EXPECT_EQ(mustDecode(expected), submitSm());
}

TEST(SmppPdu, BindTransceiverExactBytes) {
  Pdu p;
  p.command_id = smpp::kBindTransceiver;
  p.sequence = 1;
  p.system_id = "smppclient1";
  p.password = "password";
  // SMPP 3.4 §4.1.5.
  std::string expected = bytes({0x00, 0x00, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x01}) +
                         "smppclient1" + bytes({0x00}) + "password" + bytes({0x00}) +
                         bytes({0x00,        // system_type ""
                                0x34,        // interface_version 3.4
                                0x00, 0x00,  // addr_ton, addr_npi
                                0x00});      // address_range ""
  ASSERT_EQ(expected.size(), 42u);
  EXPECT_EQ(smpp::encode(p), expected);
  EXPECT_EQ(mustDecode(expected), p);
}

std::vector<Pdu> everyKind() {
  std::vector<Pdu> all;
  for (uint32_t id : {smpp::kBindTransmitter, smpp::kBindReceiver, smpp::kBindTransceiver}) {
    Pdu b;
    b.command_id = id;
    b.sequence = 1;
    b.system_id = "sys";
    b.password = "pw";
    b.system_type = "VMA";
    b.addr_ton = 1;
    b.addr_npi = 1;
    b.address_range = "^1555";
    all.push_back(b);
    Pdu r;
    r.command_id = id | smpp::kResponseBit;
    r.sequence = 1;
    r.system_id = "SMSC";
    r.tlvs.push_back(Tlv{0x0210, bytes({0x34})});  // sc_interface_version
    all.push_back(r);
    Pdu refused;
    refused.command_id = id | smpp::kResponseBit;
    refused.command_status = smpp::kInvalidPassword;
    refused.sequence = 2;
    all.push_back(refused);
  }
  all.push_back(submitSm());
  Pdu dlr = submitSm();
  dlr.command_id = smpp::kDeliverSm;
  dlr.esm_class = smpp::kEsmDeliveryReceipt;
  dlr.short_message = "id:abc stat:DELIVRD err:000";
  dlr.tlvs = {Tlv{smpp::kTagReceiptedMessageId, "abc" + std::string(1, '\0')},
              Tlv{smpp::kTagMessageState, bytes({2})}};
  all.push_back(dlr);
  Pdu ucs = submitSm();
  ucs.data_coding = 0x08;
  ucs.esm_class = smpp::kEsmUdhi;
  ucs.service_type = "CMT";
  ucs.schedule_delivery_time = "000001000000000R";
  ucs.validity_period = "261231235959000+";
  ucs.priority_flag = 1;
  ucs.protocol_id = 0x3F;
  ucs.replace_if_present_flag = 1;
  ucs.sm_default_msg_id = 3;
  ucs.short_message = std::string(254, '\xA5');
  ucs.tlvs.clear();
  all.push_back(ucs);
  Pdu sresp;
  sresp.command_id = smpp::kSubmitSm | smpp::kResponseBit;
  sresp.sequence = 7;
  sresp.message_id = std::string(64, 'f');
  all.push_back(sresp);
  Pdu throttled;
  throttled.command_id = smpp::kSubmitSm | smpp::kResponseBit;
  throttled.command_status = smpp::kThrottled;
  throttled.sequence = 8;
  all.push_back(throttled);
  Pdu dresp;
  dresp.command_id = smpp::kDeliverSm | smpp::kResponseBit;
  dresp.sequence = 9;
  all.push_back(dresp);
  for (uint32_t id : {smpp::kEnquireLink, smpp::kEnquireLink | smpp::kResponseBit, smpp::kUnbind,
                      smpp::kUnbind | smpp::kResponseBit}) {
    Pdu e;
    e.command_id = id;
    e.sequence = 0x7FFFFFFF;
    all.push_back(e);
  }
  Pdu nack;
  nack.command_id = smpp::kGenericNack;
  nack.command_status = smpp::kInvalidCommandId;
  nack.sequence = 3;
  all.push_back(nack);
  return all;
}

TEST(SmppPdu, RoundTripEveryKind) {
  std::vector<Pdu> all = everyKind();
  ASSERT_EQ(all.size(), 20u);
  for (const Pdu& p : all) {
    SCOPED_TRACE(p.command_id);
    std::string wire = smpp::encode(p);
    auto len = smpp::frameLength(wire + "trailing");
    ASSERT_TRUE(len.has_value());
    EXPECT_EQ(*len, wire.size());
    EXPECT_EQ(mustDecode(wire), p);
  }
  // Bodies the spec leaves out: a refused bind or submit, empty commands.
  EXPECT_EQ(smpp::encode(all[2]).size(), 16u);
  EXPECT_EQ(smpp::encode(all[13]).size(), 16u);
  EXPECT_EQ(smpp::encode(all[14]).size(), 17u);  // deliver_sm_resp: message_id NUL
  EXPECT_EQ(smpp::encode(all[19]).size(), 16u);
}

// Every shorter prefix, with command_length set to its size, fails to decode unless it stops
// exactly where a TLV ends (TLVs are optional): then it decodes to the PDU with fewer TLVs.
TEST(SmppPdu, TruncatedAtEveryLength) {
  for (const Pdu& p : everyKind()) {
    std::string wire = smpp::encode(p);
    size_t mandatory = smpp::encode([&] {
                         Pdu q = p;
                         q.tlvs.clear();
                         return q;
                       }())
                           .size();
    std::vector<size_t> ok_lengths;
    for (size_t k = 0, at = mandatory; k <= p.tlvs.size(); ++k) {
      ok_lengths.push_back(at);
      if (k < p.tlvs.size()) at += 4 + p.tlvs[k].value.size();
    }
    for (size_t n = 0; n < wire.size(); ++n) {
      SCOPED_TRACE(std::to_string(p.command_id) + " at " + std::to_string(n));
      std::string prefix = wire.substr(0, n);
      // As it came (command_length says more): never decodes.
      EXPECT_FALSE(smpp::decode(prefix).has_value());
      if (n < 16) continue;
      std::string patched = u32(uint32_t(n)) + prefix.substr(4);
      auto d = smpp::decode(patched);
      bool at_tlv_end = std::find(ok_lengths.begin(), ok_lengths.end(), n) != ok_lengths.end();
      bool empty_ok = n == 16 && p.command_status != 0 &&
                      (p.command_id & smpp::kResponseBit) != 0;  // refusals without a body
      if (at_tlv_end || empty_ok) {
        ASSERT_TRUE(d.has_value()) << d.error().reason;
        EXPECT_EQ(smpp::encode(*d), patched);
      } else {
        ASSERT_FALSE(d.has_value());
        EXPECT_EQ(d.error().code, common::ErrorCode::kInvalidArgument);
        EXPECT_FALSE(d.error().reason.empty());
      }
    }
  }
}

TEST(SmppPdu, FrameLength) {
  EXPECT_EQ(smpp::frameLength("").value_or(99), 0u);
  EXPECT_EQ(smpp::frameLength(std::string(15, '\0')).value_or(99), 0u);
  std::string header = u32(16) + u32(smpp::kEnquireLink) + u32(0) + u32(1);
  EXPECT_EQ(smpp::frameLength(header).value_or(0), 16u);
  // A length larger than what has arrived is still the length: the caller waits for more.
  EXPECT_EQ(smpp::frameLength(u32(300) + header.substr(4)).value_or(0), 300u);
  EXPECT_EQ(smpp::frameLength(u32(65536) + header.substr(4)).value_or(0), 65536u);
  auto small = smpp::frameLength(u32(15) + header.substr(4));
  ASSERT_FALSE(small.has_value());
  EXPECT_EQ(small.error().code, common::ErrorCode::kInvalidArgument);
  auto zero = smpp::frameLength(u32(0) + header.substr(4));
  EXPECT_FALSE(zero.has_value());
  auto big = smpp::frameLength(u32(65537) + header.substr(4));
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code, common::ErrorCode::kTooLarge);
  EXPECT_FALSE(smpp::frameLength(u32(0xFFFFFFFF) + header.substr(4)).has_value());
}

TEST(SmppPdu, DecodeRejectsLengthMismatch) {
  std::string wire = smpp::encode(submitSm());
  EXPECT_NE(decodeError(wire + "x").find("command_length"), std::string::npos);
  EXPECT_NE(decodeError(u32(100) + wire.substr(4)).find("command_length"), std::string::npos);
}

TEST(SmppPdu, OversizeFields) {
  auto bind = [](const std::string& sys, const std::string& pw, const std::string& type,
                 const std::string& range) {
    return pduBytes(smpp::kBindTransceiver, 0, 1,
                    cstr(sys) + cstr(pw) + cstr(type) + bytes({0x34, 0, 0}) + cstr(range));
  };
  EXPECT_EQ(mustDecode(bind(std::string(15, 's'), std::string(8, 'p'), std::string(12, 't'),
                            std::string(40, 'r')))
                .system_id.size(),
            15u);
  EXPECT_NE(decodeError(bind(std::string(16, 's'), "", "", "")).find("system_id"),
            std::string::npos);
  EXPECT_NE(decodeError(bind("s", std::string(9, 'p'), "", "")).find("password"),
            std::string::npos);
  EXPECT_NE(decodeError(bind("s", "", std::string(13, 't'), "")).find("system_type"),
            std::string::npos);
  EXPECT_NE(decodeError(bind("s", "", "", std::string(41, 'r'))).find("address_range"),
            std::string::npos);

  EXPECT_EQ(mustDecode(pduBytes(smpp::kSubmitSm, 0, 1,
                                smBody(std::string(20, '1'), std::string(20, '2'), "x", "ABCDE")))
                .destination_addr.size(),
            20u);
  EXPECT_NE(decodeError(pduBytes(smpp::kSubmitSm, 0, 1, smBody(std::string(21, '1'), "2", "x")))
                .find("source_addr"),
            std::string::npos);
  EXPECT_NE(decodeError(pduBytes(smpp::kDeliverSm, 0, 1, smBody("1", std::string(21, '2'), "x")))
                .find("destination_addr"),
            std::string::npos);
  EXPECT_NE(decodeError(pduBytes(smpp::kSubmitSm, 0, 1, smBody("1", "2", "x", "ABCDEF")))
                .find("service_type"),
            std::string::npos);

  // sm_length above 254, and past the end.
  std::string body255 = smBody("1", "2", "");
  body255.back() = char(255);
  EXPECT_NE(decodeError(pduBytes(smpp::kSubmitSm, 0, 1, body255 + std::string(255, 'x')))
                .find("sm_length"),
            std::string::npos);
  std::string short_sm = smBody("1", "2", "");
  short_sm.back() = char(10);
  EXPECT_NE(decodeError(pduBytes(smpp::kSubmitSm, 0, 1, short_sm + "abc")).find("short_message"),
            std::string::npos);

  // A validity period of 17 characters.
  std::string long_time = cstr("") + bytes({1, 1}) + cstr("1") + bytes({1, 1}) + cstr("2") +
                          bytes({0, 0, 0}) + cstr("") + cstr(std::string(17, '0'));
  EXPECT_NE(decodeError(pduBytes(smpp::kSubmitSm, 0, 1, long_time + bytes({0, 0, 0, 0, 0})))
                .find("validity_period"),
            std::string::npos);

  // message_id of 64 is fine, 65 is not; a missing NUL is an error.
  uint32_t resp = smpp::kSubmitSm | smpp::kResponseBit;
  EXPECT_EQ(mustDecode(pduBytes(resp, 0, 1, cstr(std::string(64, 'm')))).message_id.size(), 64u);
  EXPECT_NE(decodeError(pduBytes(resp, 0, 1, cstr(std::string(65, 'm')))).find("message_id"),
            std::string::npos);
  EXPECT_NE(decodeError(pduBytes(resp, 0, 1, "abc")).find("NUL"), std::string::npos);
}

TEST(SmppPdu, BodiesThatDoNotMatch) {
  // A response with status 0 needs its body; a refusal may leave it out.
  EXPECT_FALSE(smpp::decode(pduBytes(smpp::kSubmitSm | smpp::kResponseBit, 0, 1, "")));
  EXPECT_FALSE(smpp::decode(pduBytes(smpp::kBindTransceiver | smpp::kResponseBit, 0, 1, "")));
  Pdu q =
      mustDecode(pduBytes(smpp::kSubmitSm | smpp::kResponseBit, smpp::kMessageQueueFull, 4, ""));
  EXPECT_EQ(q.command_status, smpp::kMessageQueueFull);
  EXPECT_EQ(q.message_id, "");
  Pdu b = mustDecode(pduBytes(smpp::kBindReceiver | smpp::kResponseBit, smpp::kBindFailed, 5, ""));
  EXPECT_EQ(b.command_id, smpp::kBindReceiver | smpp::kResponseBit);
  EXPECT_EQ(b.command_status, smpp::kBindFailed);
  // Commands without a body.
  EXPECT_NE(decodeError(pduBytes(smpp::kEnquireLink, 0, 1, "x")).find("no body"),
            std::string::npos);
  EXPECT_FALSE(smpp::decode(pduBytes(smpp::kGenericNack, 0, 1, "x")));
  // Octets after a bind's address_range.
  EXPECT_FALSE(smpp::decode(
      pduBytes(smpp::kBindTransmitter, 0, 1,
               cstr("a") + cstr("b") + cstr("") + bytes({0x34, 0, 0}) + cstr("") + "junk")));
  // A truncated TLV.
  std::string sm = smBody("1", "2", "hi");
  EXPECT_NE(
      decodeError(pduBytes(smpp::kSubmitSm, 0, 1, sm + bytes({0x04, 0x27, 0x00}))).find("TLV"),
      std::string::npos);
  EXPECT_NE(decodeError(pduBytes(smpp::kSubmitSm, 0, 1, sm + bytes({0x04, 0x27, 0x00, 0x02, 1})))
                .find("TLV value"),
            std::string::npos);
  // An empty TLV value is fine.
  Pdu t = mustDecode(pduBytes(smpp::kDeliverSm, 0, 1, sm + bytes({0x14, 0x27, 0x00, 0x00})));
  ASSERT_EQ(t.tlvs.size(), 1u);
  EXPECT_EQ(t.tlvs[0].tag, 0x1427);
  EXPECT_EQ(t.tlvs[0].value, "");
  EXPECT_EQ(t.short_message, "hi");
}

TEST(SmppPdu, UnknownCommandDecodesToItsHeader) {
  Pdu p = mustDecode(pduBytes(0x00000103, 0, 77, "data_sm body we do not read"));
  EXPECT_EQ(p.command_id, 0x00000103u);
  EXPECT_EQ(p.sequence, 77u);
  EXPECT_EQ(p.short_message, "");
  EXPECT_EQ(smpp::encode(p).size(), 16u);
}

TEST(SmppPdu, EncodeCutsWhatDoesNotFit) {
  Pdu p;
  p.command_id = smpp::kBindTransmitter;
  p.system_id = std::string(20, 'x');
  p.password = std::string("ab\0cd", 5);
  Pdu d = mustDecode(smpp::encode(p));
  EXPECT_EQ(d.system_id, std::string(15, 'x'));
  EXPECT_EQ(d.password, "ab");

  Pdu big = submitSm();
  big.short_message = std::string(300, 'z');
  Pdu got = mustDecode(smpp::encode(big));
  EXPECT_EQ(got.short_message, "");
  const Tlv* payload = got.findTlv(smpp::kTagMessagePayload);
  ASSERT_NE(payload, nullptr);
  EXPECT_EQ(payload->value, std::string(300, 'z'));
  EXPECT_NE(got.findTlv(smpp::kTagSarMsgRefNum), nullptr);
  EXPECT_EQ(got.findTlv(0x9999), nullptr);
}

TEST(SmppPdu, StatusNamesAndThrottling) {
  EXPECT_EQ(smpp::statusName(smpp::kOk), "ESME_ROK");
  EXPECT_EQ(smpp::statusName(smpp::kThrottled), "ESME_RTHROTTLED");
  EXPECT_EQ(smpp::statusName(smpp::kMessageQueueFull), "ESME_RMSGQFUL");
  EXPECT_EQ(smpp::statusName(smpp::kInvalidDestAddress), "ESME_RINVDSTADR");
  EXPECT_EQ(smpp::statusName(smpp::kBindFailed), "ESME_RBINDFAIL");
  EXPECT_EQ(smpp::statusName(smpp::kInvalidPassword), "ESME_RINVPASWD");
  EXPECT_EQ(smpp::statusName(smpp::kDeliveryFailure), "ESME_RDELIVERYFAILURE");
  EXPECT_EQ(smpp::statusName(smpp::kUnknownError), "ESME_RUNKNOWNERR");
  EXPECT_EQ(smpp::statusName(0x45), "ESME_RSUBMITFAIL");
  EXPECT_EQ(smpp::statusName(0xABCD), "0x0000ABCD");
  EXPECT_EQ(smpp::statusName(0x400), "0x00000400");
  EXPECT_TRUE(smpp::isThrottling(0x58));
  EXPECT_TRUE(smpp::isThrottling(0x14));
  EXPECT_FALSE(smpp::isThrottling(smpp::kOk));
  EXPECT_FALSE(smpp::isThrottling(smpp::kSystemError));
  EXPECT_FALSE(smpp::isThrottling(smpp::kInvalidDestAddress));
}

Pdu deliverWith(const std::string& text, std::vector<Tlv> tlvs = {}) {
  Pdu p;
  p.command_id = smpp::kDeliverSm;
  p.esm_class = smpp::kEsmDeliveryReceipt;
  p.short_message = text;
  p.tlvs = std::move(tlvs);
  return p;
}

TEST(SmppReceipt, StandardText) {
  auto r = smpp::parseReceipt(
      deliverWith("id:0123456789 sub:001 dlvrd:001 submit date:2612241530 done date:2612241531 "
                  "stat:DELIVRD err:000 text:Hello there, how are"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, "0123456789");
  EXPECT_EQ(r->sub, "001");
  EXPECT_EQ(r->dlvrd, "001");
  EXPECT_EQ(r->submit_date, "2612241530");
  EXPECT_EQ(r->done_date, "2612241531");
  EXPECT_EQ(r->stat, "DELIVRD");
  EXPECT_EQ(r->err, "000");
  EXPECT_EQ(r->text, "Hello there, how are");
}

TEST(SmppReceipt, OddSpacingCaseAndOrder) {
  auto r = smpp::parseReceipt(deliverWith(
      "  STAT : undeliv   Err:  013 ID:  A1B2c3\tSubmit_Date:2601010000 DONE  DATE: 2601010001 "
      "foo:bar sub:  dlvrd:000 TEXT:  stat:x id:y"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, "A1B2c3");
  EXPECT_EQ(r->stat, "UNDELIV");
  EXPECT_EQ(r->err, "013");
  EXPECT_EQ(r->submit_date, "2601010000");
  EXPECT_EQ(r->done_date, "2601010001");
  EXPECT_EQ(r->sub, "");  // an empty value followed by the next field
  EXPECT_EQ(r->dlvrd, "000");
  EXPECT_EQ(r->text, "stat:x id:y");  // text runs to the end
  // The first occurrence of a field wins; a missing field stays empty.
  auto twice = smpp::parseReceipt(deliverWith("id:first id:second stat:EXPIRED"));
  ASSERT_TRUE(twice.has_value());
  EXPECT_EQ(twice->id, "first");
  EXPECT_EQ(twice->err, "");
  EXPECT_EQ(twice->text, "");
}

TEST(SmppReceipt, TlvsTakePrecedence) {
  auto r = smpp::parseReceipt(
      deliverWith("id:fromtext stat:ENROUTE err:000",
                  {Tlv{smpp::kTagReceiptedMessageId, std::string("fromtlv\0", 8)},
                   Tlv{smpp::kTagMessageState, bytes({5})}}));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, "fromtlv");
  EXPECT_EQ(r->stat, "UNDELIV");
  EXPECT_EQ(r->err, "000");
  // TLVs alone, the id without its NUL, network_error_code giving err.
  auto t = smpp::parseReceipt(deliverWith(
      "", {Tlv{smpp::kTagReceiptedMessageId, "77"}, Tlv{smpp::kTagMessageState, bytes({8})},
           Tlv{smpp::kTagNetworkErrorCode, bytes({3, 0x00, 0x2D})}}));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->id, "77");
  EXPECT_EQ(t->stat, "REJECTD");
  EXPECT_EQ(t->err, "045");
  const char* names[] = {"ENROUTE", "DELIVRD", "EXPIRED", "DELETED",
                         "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"};
  for (int s = 1; s <= 8; ++s) {
    auto x = smpp::parseReceipt(deliverWith("id:1", {Tlv{smpp::kTagMessageState, bytes({s})}}));
    ASSERT_TRUE(x.has_value());
    EXPECT_EQ(x->stat, names[s - 1]);
  }
  // A message_state out of range, or of the wrong size, leaves the text's state.
  auto odd = smpp::parseReceipt(
      deliverWith("id:1 stat:DELIVRD", {Tlv{smpp::kTagMessageState, bytes({9})}}));
  EXPECT_EQ(odd->stat, "DELIVRD");
  auto wide = smpp::parseReceipt(
      deliverWith("id:1 stat:DELIVRD", {Tlv{smpp::kTagMessageState, bytes({0, 2})}}));
  EXPECT_EQ(wide->stat, "DELIVRD");
}

TEST(SmppReceipt, NoIdNoReceipt) {
  EXPECT_FALSE(smpp::parseReceipt(deliverWith("stat:DELIVRD err:000")).has_value());
  EXPECT_FALSE(smpp::parseReceipt(deliverWith("")).has_value());
  EXPECT_FALSE(smpp::parseReceipt(deliverWith("hello, an ordinary message")).has_value());
  EXPECT_FALSE(smpp::parseReceipt(deliverWith("stat:DELIVRD", {Tlv{smpp::kTagReceiptedMessageId,
                                                                   std::string(1, '\0')}}))
                   .has_value());
  // The text in message_payload when short_message is empty.
  auto p =
      smpp::parseReceipt(deliverWith("", {Tlv{smpp::kTagMessagePayload, "id:pay stat:delivrd"}}));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->id, "pay");
  EXPECT_EQ(p->stat, "DELIVRD");
}

TEST(SmppReceipt, FormatParsesBack) {
  smpp::ReceiptText r;
  r.id = "9f3a";
  r.sub = "001";
  r.dlvrd = "001";
  r.submit_date = "2612241530";
  r.done_date = "2612241532";
  r.stat = "REJECTD";
  r.err = "045";
  r.text = "Buy now: cheap";
  std::string text = smpp::formatReceipt(r);
  EXPECT_EQ(text,
            "id:9f3a sub:001 dlvrd:001 submit date:2612241530 done date:2612241532 stat:REJECTD "
            "err:045 text:Buy now: cheap");
  auto back = smpp::parseReceipt(deliverWith(text));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, r.id);
  EXPECT_EQ(back->sub, r.sub);
  EXPECT_EQ(back->dlvrd, r.dlvrd);
  EXPECT_EQ(back->submit_date, r.submit_date);
  EXPECT_EQ(back->done_date, r.done_date);
  EXPECT_EQ(back->stat, r.stat);
  EXPECT_EQ(back->err, r.err);
  EXPECT_EQ(back->text, r.text);
}

}  // namespace
