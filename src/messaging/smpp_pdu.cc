#include "messaging/smpp_pdu.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "common/strings.h"

namespace messaging::smpp {
namespace {

// Field sizes of SMPP 3.4 §5.2, the terminating NUL included.
constexpr size_t kSystemIdSize = 16;
constexpr size_t kPasswordSize = 9;
constexpr size_t kSystemTypeSize = 13;
constexpr size_t kAddressRangeSize = 41;
constexpr size_t kServiceTypeSize = 6;
constexpr size_t kAddrSize = 21;
constexpr size_t kTimeSize = 17;
constexpr size_t kMessageIdSize = 65;
constexpr size_t kMaxShortMessage = 254;

enum class Body {
  kBind,      // bind_transmitter, bind_receiver, bind_transceiver
  kBindResp,  // system_id, then TLVs
  kSm,        // submit_sm, deliver_sm
  kSmResp,    // message_id (SMPP 5.0 peers may add TLVs)
  kEmpty,     // enquire_link(_resp), unbind(_resp), generic_nack
  kUnknown,   // header only
};

Body bodyOf(uint32_t id) {
  switch (id) {
    case kBindReceiver:
    case kBindTransmitter:
    case kBindTransceiver:
      return Body::kBind;
    case kBindReceiver | kResponseBit:
    case kBindTransmitter | kResponseBit:
    case kBindTransceiver | kResponseBit:
      return Body::kBindResp;
    case kSubmitSm:
    case kDeliverSm:
      return Body::kSm;
    case kSubmitSm | kResponseBit:
    case kDeliverSm | kResponseBit:
      return Body::kSmResp;
    case kEnquireLink:
    case kEnquireLink | kResponseBit:
    case kUnbind:
    case kUnbind | kResponseBit:
    case kGenericNack:
      return Body::kEmpty;
    default:
      return Body::kUnknown;
  }
}

// ---- encoding ------------------------------------------------------------------------------

void putU8(std::string& out, uint8_t v) {
  out.push_back(char(v));
}
void putU16(std::string& out, uint16_t v) {
  out.push_back(char(v >> 8));
  out.push_back(char(v & 0xFF));
}
void putU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(char((v >> shift) & 0xFF));
}
// A C-Octet String: cut at an embedded NUL and to what the field holds, then NUL-terminated.
void putCString(std::string& out, std::string_view s, size_t size) {
  s = s.substr(0, std::min(s.find('\0'), size - 1));
  out.append(s);
  out.push_back('\0');
}
void putTlvs(std::string& out, const std::vector<Tlv>& tlvs) {
  for (const Tlv& t : tlvs) {
    size_t n = std::min<size_t>(t.value.size(), 0xFFFF);
    putU16(out, t.tag);
    putU16(out, uint16_t(n));
    out.append(t.value, 0, n);
  }
}

// ---- decoding ------------------------------------------------------------------------------

// Reads fields front to back; the first error sticks and later reads return empty values.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.empty(); }
  bool atEnd() const { return pos_ >= in_.size(); }
  const std::string& error() const { return error_; }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  uint8_t u8(const char* field) {
    if (!need(1, field)) return 0;
    return uint8_t(in_[pos_++]);
  }
  uint16_t u16(const char* field) {
    if (!need(2, field)) return 0;
    uint16_t v = uint16_t((uint8_t(in_[pos_]) << 8) | uint8_t(in_[pos_ + 1]));
    pos_ += 2;
    return v;
  }
  std::string bytes(size_t n, const char* field) {
    if (!need(n, field)) return {};
    std::string v(in_.substr(pos_, n));
    pos_ += n;
    return v;
  }
  // A C-Octet String of at most `size` octets with its NUL.
  std::string cstring(size_t size, const char* field) {
    if (!ok()) return {};
    std::string_view rest = in_.substr(pos_);
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) {
      fail(std::string(field) + ": no terminating NUL");
      return {};
    }
    if (nul + 1 > size) {
      fail(std::string(field) + ": " + std::to_string(nul) + " octets, at most " +
           std::to_string(size - 1) + " allowed");
      return {};
    }
    pos_ += nul + 1;
    return std::string(rest.substr(0, nul));
  }
  std::vector<Tlv> tlvs() {
    std::vector<Tlv> out;
    while (ok() && !atEnd()) {
      Tlv t;
      t.tag = u16("TLV tag");
      uint16_t len = u16("TLV length");
      t.value = bytes(len, "TLV value");
      if (ok()) out.push_back(std::move(t));
    }
    return out;
  }

 private:
  bool need(size_t n, const char* field) {
    if (!ok()) return false;
    if (in_.size() - pos_ < n) {
      fail(std::string(field) + ": truncated (" + std::to_string(n) + " octets needed, " +
           std::to_string(in_.size() - pos_) + " left)");
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

uint32_t readU32(std::string_view b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) |
         (uint32_t(uint8_t(b[at + 2])) << 8) | uint32_t(uint8_t(b[at + 3]));
}

common::Unexpected invalid(std::string why) {
  return common::makeError(common::ErrorCode::kInvalidArgument, std::move(why));
}

struct StatusEntry {
  uint32_t code;
  const char* name;
};
// SMPP 3.4 §5.1.3.
constexpr std::array<StatusEntry, 48> kStatusNames = {{
    {0x00, "ESME_ROK"},
    {0x01, "ESME_RINVMSGLEN"},
    {0x02, "ESME_RINVCMDLEN"},
    {0x03, "ESME_RINVCMDID"},
    {0x04, "ESME_RINVBNDSTS"},
    {0x05, "ESME_RALYBND"},
    {0x06, "ESME_RINVPRTFLG"},
    {0x07, "ESME_RINVREGDLVFLG"},
    {0x08, "ESME_RSYSERR"},
    {0x0A, "ESME_RINVSRCADR"},
    {0x0B, "ESME_RINVDSTADR"},
    {0x0C, "ESME_RINVMSGID"},
    {0x0D, "ESME_RBINDFAIL"},
    {0x0E, "ESME_RINVPASWD"},
    {0x0F, "ESME_RINVSYSID"},
    {0x11, "ESME_RCANCELFAIL"},
    {0x13, "ESME_RREPLACEFAIL"},
    {0x14, "ESME_RMSGQFUL"},
    {0x15, "ESME_RINVSERTYP"},
    {0x33, "ESME_RINVNUMDESTS"},
    {0x34, "ESME_RINVDLNAME"},
    {0x40, "ESME_RINVDESTFLAG"},
    {0x42, "ESME_RINVSUBREP"},
    {0x43, "ESME_RINVESMCLASS"},
    {0x44, "ESME_RCNTSUBDL"},
    {0x45, "ESME_RSUBMITFAIL"},
    {0x48, "ESME_RINVSRCTON"},
    {0x49, "ESME_RINVSRCNPI"},
    {0x50, "ESME_RINVDSTTON"},
    {0x51, "ESME_RINVDSTNPI"},
    {0x53, "ESME_RINVSYSTYP"},
    {0x54, "ESME_RINVREPFLAG"},
    {0x55, "ESME_RINVNUMMSGS"},
    {0x58, "ESME_RTHROTTLED"},
    {0x61, "ESME_RINVSCHED"},
    {0x62, "ESME_RINVEXPIRY"},
    {0x63, "ESME_RINVDFTMSGID"},
    {0x64, "ESME_RX_T_APPN"},
    {0x65, "ESME_RX_P_APPN"},
    {0x66, "ESME_RX_R_APPN"},
    {0x67, "ESME_RQUERYFAIL"},
    {0xC0, "ESME_RINVOPTPARSTREAM"},
    {0xC1, "ESME_ROPTPARNOTALLWD"},
    {0xC2, "ESME_RINVPARLEN"},
    {0xC3, "ESME_RMISSINGOPTPARAM"},
    {0xC4, "ESME_RINVOPTPARAMVAL"},
    {0xFE, "ESME_RDELIVERYFAILURE"},
    {0xFF, "ESME_RUNKNOWNERR"},
}};

// message_state values 1..8 (§5.2.28) as receipts spell them (Appendix B).
constexpr std::array<const char*, 9> kStateNames = {
    "", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"};

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

const Tlv* Pdu::findTlv(uint16_t tag) const {
  for (const Tlv& t : tlvs) {
    if (t.tag == tag) return &t;
  }
  return nullptr;
}

bool isThrottling(uint32_t command_status) {
  return command_status == kThrottled || command_status == kMessageQueueFull;
}

std::string statusName(uint32_t command_status) {
  for (const StatusEntry& e : kStatusNames) {
    if (e.code == command_status) return e.name;
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", command_status);
  return buf;
}

common::Result<size_t> frameLength(std::string_view buffer) {
  if (buffer.size() < kHeaderSize) return size_t(0);
  uint32_t len = readU32(buffer, 0);
  if (len < kHeaderSize) {
    return invalid("command_length " + std::to_string(len) + " is below the 16-octet header");
  }
  if (len > kMaxPduSize) {
    return common::makeError(
        common::ErrorCode::kTooLarge,
        "command_length " + std::to_string(len) + " exceeds " + std::to_string(kMaxPduSize));
  }
  return size_t(len);
}

std::string encode(const Pdu& pdu) {
  std::string out;
  out.reserve(kHeaderSize + 64 + pdu.short_message.size());
  putU32(out, 0);  // command_length, filled in at the end
  putU32(out, pdu.command_id);
  putU32(out, pdu.command_status);
  putU32(out, pdu.sequence);
  switch (bodyOf(pdu.command_id)) {
    case Body::kBind:
      putCString(out, pdu.system_id, kSystemIdSize);
      putCString(out, pdu.password, kPasswordSize);
      putCString(out, pdu.system_type, kSystemTypeSize);
      putU8(out, pdu.interface_version);
      putU8(out, pdu.addr_ton);
      putU8(out, pdu.addr_npi);
      putCString(out, pdu.address_range, kAddressRangeSize);
      break;
    case Body::kBindResp:
      // §4.1: the body is left out of a refusal; keep it when there is something to say.
      if (pdu.command_status != kOk && pdu.system_id.empty() && pdu.tlvs.empty()) break;
      putCString(out, pdu.system_id, kSystemIdSize);
      putTlvs(out, pdu.tlvs);
      break;
    case Body::kSm: {
      putCString(out, pdu.service_type, kServiceTypeSize);
      putU8(out, pdu.source_addr_ton);
      putU8(out, pdu.source_addr_npi);
      putCString(out, pdu.source_addr, kAddrSize);
      putU8(out, pdu.dest_addr_ton);
      putU8(out, pdu.dest_addr_npi);
      putCString(out, pdu.destination_addr, kAddrSize);
      putU8(out, pdu.esm_class);
      putU8(out, pdu.protocol_id);
      putU8(out, pdu.priority_flag);
      putCString(out, pdu.schedule_delivery_time, kTimeSize);
      putCString(out, pdu.validity_period, kTimeSize);
      putU8(out, pdu.registered_delivery);
      putU8(out, pdu.replace_if_present_flag);
      putU8(out, pdu.data_coding);
      putU8(out, pdu.sm_default_msg_id);
      // A body too long for short_message travels in message_payload (§5.3.2.32) instead.
      bool oversize = pdu.short_message.size() > kMaxShortMessage;
      if (oversize && pdu.findTlv(kTagMessagePayload) == nullptr) {
        putU8(out, 0);
        putTlvs(out, pdu.tlvs);
        putTlvs(out, {Tlv{kTagMessagePayload, pdu.short_message.substr(0, 0xFFFF)}});
        break;
      }
      size_t n = std::min(pdu.short_message.size(), kMaxShortMessage);
      putU8(out, uint8_t(n));
      out.append(pdu.short_message, 0, n);
      putTlvs(out, pdu.tlvs);
      break;
    }
    case Body::kSmResp:
      if (pdu.command_status != kOk && pdu.message_id.empty() && pdu.tlvs.empty()) break;
      putCString(out, pdu.message_id, kMessageIdSize);
      putTlvs(out, pdu.tlvs);
      break;
    case Body::kEmpty:
    case Body::kUnknown:
      break;
  }
  uint32_t len = uint32_t(out.size());
  for (int i = 0; i < 4; ++i) out[size_t(i)] = char((len >> (24 - 8 * i)) & 0xFF);
  return out;
}

common::Result<Pdu> decode(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) {
    return invalid("PDU of " + std::to_string(bytes.size()) + " octets is shorter than its header");
  }
  uint32_t len = readU32(bytes, 0);
  if (len != bytes.size()) {
    return invalid("command_length " + std::to_string(len) + " but " +
                   std::to_string(bytes.size()) + " octets given");
  }
  Pdu pdu;
  pdu.command_id = readU32(bytes, 4);
  pdu.command_status = readU32(bytes, 8);
  pdu.sequence = readU32(bytes, 12);
  Reader r(bytes.substr(kHeaderSize));
  switch (bodyOf(pdu.command_id)) {
    case Body::kBind:
      pdu.system_id = r.cstring(kSystemIdSize, "system_id");
      pdu.password = r.cstring(kPasswordSize, "password");
      pdu.system_type = r.cstring(kSystemTypeSize, "system_type");
      pdu.interface_version = r.u8("interface_version");
      pdu.addr_ton = r.u8("addr_ton");
      pdu.addr_npi = r.u8("addr_npi");
      pdu.address_range = r.cstring(kAddressRangeSize, "address_range");
      if (r.ok() && !r.atEnd()) r.fail("octets after address_range");
      break;
    case Body::kBindResp:
      if (r.atEnd() && pdu.command_status != kOk) break;
      pdu.system_id = r.cstring(kSystemIdSize, "system_id");
      pdu.tlvs = r.tlvs();
      break;
    case Body::kSm: {
      pdu.service_type = r.cstring(kServiceTypeSize, "service_type");
      pdu.source_addr_ton = r.u8("source_addr_ton");
      pdu.source_addr_npi = r.u8("source_addr_npi");
      pdu.source_addr = r.cstring(kAddrSize, "source_addr");
      pdu.dest_addr_ton = r.u8("dest_addr_ton");
      pdu.dest_addr_npi = r.u8("dest_addr_npi");
      pdu.destination_addr = r.cstring(kAddrSize, "destination_addr");
      pdu.esm_class = r.u8("esm_class");
      pdu.protocol_id = r.u8("protocol_id");
      pdu.priority_flag = r.u8("priority_flag");
      pdu.schedule_delivery_time = r.cstring(kTimeSize, "schedule_delivery_time");
      pdu.validity_period = r.cstring(kTimeSize, "validity_period");
      pdu.registered_delivery = r.u8("registered_delivery");
      pdu.replace_if_present_flag = r.u8("replace_if_present_flag");
      pdu.data_coding = r.u8("data_coding");
      pdu.sm_default_msg_id = r.u8("sm_default_msg_id");
      uint8_t sm_length = r.u8("sm_length");
      if (r.ok() && sm_length > kMaxShortMessage) {
        r.fail("sm_length " + std::to_string(sm_length) + " exceeds 254");
      }
      pdu.short_message = r.bytes(sm_length, "short_message");
      pdu.tlvs = r.tlvs();
      break;
    }
    case Body::kSmResp:
      if (r.atEnd() && pdu.command_status != kOk) break;
      pdu.message_id = r.cstring(kMessageIdSize, "message_id");
      pdu.tlvs = r.tlvs();
      break;
    case Body::kEmpty:
      if (!r.atEnd()) r.fail("this command has no body");
      break;
    case Body::kUnknown:
      break;
  }
  if (!r.ok()) {
    char id[16];
    std::snprintf(id, sizeof id, "0x%08X", pdu.command_id);
    return invalid(std::string("command ") + id + ": " + r.error());
  }
  return pdu;
}

std::optional<ReceiptText> parseReceipt(const Pdu& deliver_sm) {
  ReceiptText rt;
  std::string_view text = deliver_sm.short_message;
  if (text.empty()) {
    if (const Tlv* payload = deliver_sm.findTlv(kTagMessagePayload)) text = payload->value;
  }

  struct Field {
    const char* name;  // words separated by one space; "submit date" also matches
                       // "submit_date", "submitdate" and runs of spaces
    std::string* out;
  };
  const std::array<Field, 8> fields = {{{"id", &rt.id},
                                        {"sub", &rt.sub},
                                        {"dlvrd", &rt.dlvrd},
                                        {"submit date", &rt.submit_date},
                                        {"done date", &rt.done_date},
                                        {"stat", &rt.stat},
                                        {"err", &rt.err},
                                        {"text", &rt.text}}};
  // The length of "name:" (and the spaces around the colon) at `at`, or 0.
  auto matchKey = [&text](size_t at, std::string_view name) -> size_t {
    size_t i = at;
    for (size_t k = 0; k < name.size(); ++k) {
      if (name[k] == ' ') {
        while (i < text.size() && (text[i] == ' ' || text[i] == '_')) ++i;
        continue;
      }
      if (i >= text.size() || common::toLowerAscii(text[i]) != name[k]) return 0;
      ++i;
    }
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size() || text[i] != ':') return 0;
    return i + 1 - at;
  };
  auto keyAt = [&](size_t at, size_t* len) -> const Field* {
    for (const Field& f : fields) {
      size_t n = matchKey(at, f.name);
      if (n > 0) {
        *len = n;
        return &f;
      }
    }
    return nullptr;
  };

  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isSpace(text[i])) ++i;
    if (i >= text.size()) break;
    size_t klen = 0;
    const Field* f = keyAt(i, &klen);
    if (f == nullptr) {  // something we do not know: skip the word
      while (i < text.size() && !isSpace(text[i])) ++i;
      continue;
    }
    i += klen;
    size_t vstart = i;
    while (vstart < text.size() && (text[vstart] == ' ' || text[vstart] == '\t')) ++vstart;
    if (f->out == &rt.text) {
      rt.text = std::string(text.substr(vstart));
      break;
    }
    size_t dummy = 0;
    if (vstart < text.size() && keyAt(vstart, &dummy) != nullptr) {
      i = vstart;  // "err: text:..." - an empty value followed by the next field
      continue;
    }
    size_t vend = vstart;
    while (vend < text.size() && !isSpace(text[vend])) ++vend;
    if (f->out->empty()) *f->out = std::string(text.substr(vstart, vend - vstart));
    i = vend;
  }
  for (char& c : rt.stat) {
    if (c >= 'a' && c <= 'z') c = char(c - 32);
  }

  if (const Tlv* id = deliver_sm.findTlv(kTagReceiptedMessageId)) {
    std::string_view v = id->value;
    v = v.substr(0, v.find('\0'));
    if (!v.empty()) rt.id = std::string(v);
  }
  if (const Tlv* state = deliver_sm.findTlv(kTagMessageState)) {
    if (state->value.size() == 1) {
      uint8_t s = uint8_t(state->value[0]);
      if (s >= 1 && s < kStateNames.size()) rt.stat = kStateNames[s];
    }
  }
  if (rt.err.empty()) {
    // network_error_code (§5.3.2.31): network type, then a 2-octet error code.
    if (const Tlv* net = deliver_sm.findTlv(kTagNetworkErrorCode); net && net->value.size() == 3) {
      unsigned code = (unsigned(uint8_t(net->value[1])) << 8) | uint8_t(net->value[2]);
      char buf[8];
      std::snprintf(buf, sizeof buf, "%03u", code);
      rt.err = buf;
    }
  }
  if (rt.id.empty()) return std::nullopt;
  return rt;
}

std::string formatReceipt(const ReceiptText& r) {
  std::string out;
  out.reserve(96 + r.id.size() + r.text.size());
  out += "id:" + r.id;
  out += " sub:" + r.sub;
  out += " dlvrd:" + r.dlvrd;
  out += " submit date:" + r.submit_date;
  out += " done date:" + r.done_date;
  out += " stat:" + r.stat;
  out += " err:" + r.err;
  out += " text:" + r.text;
  return out;
}

}  // namespace messaging::smpp
