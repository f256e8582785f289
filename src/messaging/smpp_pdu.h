// SMPP 3.4 protocol data units: framing, encoding and decoding of the PDUs an ESME (our side)
// exchanges with an SMSC, and the text of delivery receipts. Pure functions, no I/O.
//
//   smpp::Pdu p;
//   p.command_id = smpp::kSubmitSm;
//   p.sequence = 7;
//   p.source_addr = "15550100";
//   std::string wire = smpp::encode(p);
//   auto len = smpp::frameLength(buffer);  // 0: need more bytes
//   auto pdu = smpp::decode(std::string_view(buffer).substr(0, *len));
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace messaging::smpp {

// command_id values (SMPP 3.4 §5.1.2.1). A response is its request | 0x80000000.
inline constexpr uint32_t kGenericNack = 0x80000000;
inline constexpr uint32_t kBindReceiver = 0x00000001;
inline constexpr uint32_t kBindTransmitter = 0x00000002;
inline constexpr uint32_t kSubmitSm = 0x00000004;
inline constexpr uint32_t kDeliverSm = 0x00000005;
inline constexpr uint32_t kUnbind = 0x00000006;
inline constexpr uint32_t kBindTransceiver = 0x00000009;
inline constexpr uint32_t kEnquireLink = 0x00000015;
inline constexpr uint32_t kResponseBit = 0x80000000;

// command_status values used by this code (§5.1.3).
inline constexpr uint32_t kOk = 0x00000000;
inline constexpr uint32_t kInvalidMessageLength = 0x00000001;
inline constexpr uint32_t kInvalidCommandLength = 0x00000002;
inline constexpr uint32_t kInvalidCommandId = 0x00000003;
inline constexpr uint32_t kIncorrectBindStatus = 0x00000004;
inline constexpr uint32_t kAlreadyBound = 0x00000005;
inline constexpr uint32_t kSystemError = 0x00000008;
inline constexpr uint32_t kInvalidSourceAddress = 0x0000000A;
inline constexpr uint32_t kInvalidDestAddress = 0x0000000B;
inline constexpr uint32_t kBindFailed = 0x0000000D;
inline constexpr uint32_t kInvalidPassword = 0x0000000E;
inline constexpr uint32_t kInvalidSystemId = 0x0000000F;
inline constexpr uint32_t kMessageQueueFull = 0x00000014;  // ESME_RMSGQFUL
inline constexpr uint32_t kThrottled = 0x00000058;         // ESME_RTHROTTLED
inline constexpr uint32_t kDeliveryFailure = 0x000000FE;   // ESME_RDELIVERYFAILURE
inline constexpr uint32_t kUnknownError = 0x000000FF;
// Statuses that mean "slow down and send it again" rather than a final refusal.
bool isThrottling(uint32_t command_status);
// "ESME_RTHROTTLED" ..., or "0x0000ABCD" for a value without a name.
std::string statusName(uint32_t command_status);

// Optional parameter tags (§5.3.2).
inline constexpr uint16_t kTagReceiptedMessageId = 0x001E;
inline constexpr uint16_t kTagMessageState = 0x0427;
inline constexpr uint16_t kTagNetworkErrorCode = 0x0423;
inline constexpr uint16_t kTagMessagePayload = 0x0424;
inline constexpr uint16_t kTagSarMsgRefNum = 0x020C;
inline constexpr uint16_t kTagSarTotalSegments = 0x020E;
inline constexpr uint16_t kTagSarSegmentSeqnum = 0x020F;

// esm_class bits (§5.2.12).
inline constexpr uint8_t kEsmUdhi = 0x40;             // short_message starts with a UDH
inline constexpr uint8_t kEsmDeliveryReceipt = 0x04;  // deliver_sm carrying a receipt

struct Tlv {
  uint16_t tag = 0;
  std::string value;
  bool operator==(const Tlv&) const = default;
};

// One PDU. Only the fields of its command_id are encoded; decode() fills the same ones.
struct Pdu {
  uint32_t command_id = 0;
  uint32_t command_status = 0;
  uint32_t sequence = 0;

  // bind_* (and system_id in bind_*_resp)
  std::string system_id;
  std::string password;
  std::string system_type;
  uint8_t interface_version = 0x34;
  uint8_t addr_ton = 0;
  uint8_t addr_npi = 0;
  std::string address_range;

  // submit_sm / deliver_sm
  std::string service_type;
  uint8_t source_addr_ton = 0;
  uint8_t source_addr_npi = 0;
  std::string source_addr;
  uint8_t dest_addr_ton = 0;
  uint8_t dest_addr_npi = 0;
  std::string destination_addr;
  uint8_t esm_class = 0;
  uint8_t protocol_id = 0;
  uint8_t priority_flag = 0;
  std::string schedule_delivery_time;
  std::string validity_period;
  uint8_t registered_delivery = 0;
  uint8_t replace_if_present_flag = 0;
  uint8_t data_coding = 0;
  uint8_t sm_default_msg_id = 0;
  std::string short_message;  // raw octets, at most 254
  std::vector<Tlv> tlvs;      // optional parameters (also after bind_*_resp's system_id
                              // and *_sm_resp's message_id)

  // submit_sm_resp / deliver_sm_resp
  std::string message_id;

  const Tlv* findTlv(uint16_t tag) const;
  bool operator==(const Pdu&) const = default;
};

inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kMaxPduSize = 64 * 1024;  // larger command_length: a broken peer

// The length of the PDU at the start of `buffer`: 0 when fewer than 16 bytes are there yet;
// an error when command_length is below 16 or above kMaxPduSize (the stream cannot be
// resynchronised: close the connection).
common::Result<size_t> frameLength(std::string_view buffer);

// The wire bytes of `pdu` (header included). A C-string field is cut at an embedded NUL and
// to the size its field allows; a short_message over 254 octets goes in a message_payload TLV
// instead (cut to 254 if there is one already). A refusal (command_status != 0) of bind or
// submit/deliver_sm with nothing in its fields is sent without a body (§4.1, §4.4.2).
std::string encode(const Pdu& pdu);

// Decodes one whole PDU (exactly command_length bytes). Errors (kInvalidArgument, with the
// reason): a body that does not match the command, a C-string without its NUL or longer than
// the field allows, sm_length past the end or above 254, a truncated TLV, a body on a command
// that has none, an empty body on a response whose command_status is 0. An unknown
// command_id decodes to its header only (the caller answers generic_nack with
// kInvalidCommandId).
common::Result<Pdu> decode(std::string_view bytes);

// A delivery receipt's text (SMPP 3.4 Appendix B):
// "id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
// err:E text:...". Fields are found by name in any order, case-insensitively (spaces around
// the colon, and "submit_date" for "submit date", are accepted); a value ends at white space,
// except text's, which runs to the end; the first occurrence wins; stat is upper-cased;
// missing ones stay empty. The text is short_message, or message_payload when that is empty. TLVs,
// when present, take precedence: receipted_message_id for the id, message_state (1..8 -> ENROUTE,
// DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD) for the state; network_error_code
// gives err ("%03u" of its code) when the text has none.
struct ReceiptText {
  std::string id;
  std::string sub;
  std::string dlvrd;
  std::string submit_date;
  std::string done_date;
  std::string stat;
  std::string err;
  std::string text;
};
// nullopt when neither the text nor the TLVs give an id.
std::optional<ReceiptText> parseReceipt(const Pdu& deliver_sm);
// The text an SMSC would put in short_message (tests and the fuzzer build receipts with it).
std::string formatReceipt(const ReceiptText& receipt);

}  // namespace messaging::smpp
