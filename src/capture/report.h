// The result of analysing a capture: calls, RTP streams, RTCP reports and DTMF, as
// `switchboard pcap analyze` prints them (text or --json; schema in docs/pcap.md).
// Times are nanoseconds since the Unix epoch; durations are milliseconds (double).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture/packet.h"

namespace capture {

struct SipMessageRecord {
  uint64_t frame = 0;
  int64_t time_ns = 0;
  Endpoint src, dst;
  Transport transport = Transport::kUdp;
  std::string method;  // request method, or the CSeq method of a response
  int status = 0;      // 0 for a request
  std::string reason;  // reason phrase of a response
  uint32_t cseq = 0;
  bool retransmission = false;  // the same message seen before (UDP only, as tshark counts)
};

struct CodecChange {
  int64_t time_ns = 0;
  std::string from, to;  // codec names ("PCMA", "telephone-event", "image/t38", ...)
  std::string reason;    // "offer/answer", "rtp payload without a new offer", "488 refused"
};

struct CallReport {
  std::string call_id;
  std::string from, to;  // From/To URIs of the first request
  std::string method;    // of the first request: INVITE, REGISTER, OPTIONS, ...
  int64_t start_ns = 0, end_ns = 0;
  std::vector<SipMessageRecord> messages;
  // Of the final responses to the call's first method (initial INVITEs only, not
  // re-INVITEs): the first 2xx, else the last one; 0 when there is none.
  int final_status = 0;
  std::string final_reason;
  std::optional<double> post_dial_delay_ms;  // INVITE to first 18x
  std::optional<double> setup_ms;            // INVITE to 200
  std::optional<double> duration_ms;         // 200 to BYE
  std::string hangup_by;                     // "caller", "callee" or "" (no BYE)
  int auth_challenges = 0;                   // 401 and 407 responses
  int retransmissions = 0;
  bool ack_timeout = false;  // a 2xx to INVITE retransmitted and never acknowledged
  bool media_timeout = false;
  bool one_way_audio = false;
  bool cancelled = false;
  int reinvites = 0;
  std::vector<std::string> offered_codecs;   // of the first offer
  std::vector<std::string> answered_codecs;  // of the answer
  std::vector<std::string> codecs;           // negotiated: answered, else offered
  std::vector<CodecChange> codec_changes;
  std::optional<std::string> refused_codec;  // the codec an offer refused with 488 asked for
};

struct DtmfEvent {
  char digit = 0;       // 0-9 * # A-D; 'X' for another RFC 4733 event (event_id says which)
  int event_id = -1;    // RFC 4733 event code, -1 for info/inband
  std::string source;   // "rfc4733", "info", "inband"
  int64_t time_ns = 0;  // start
  double duration_ms = 0;
  uint32_t ssrc = 0;    // rfc4733 and inband
  std::string call_id;  // empty when the stream is not tied to a call
};

struct RtpStreamReport {
  uint32_t ssrc = 0;
  Endpoint src, dst;
  int payload_type = -1;           // the first payload type seen
  std::vector<int> payload_types;  // all, in order of first appearance
  std::string codec;               // of payload_type: "PCMU", "PCMA", "G729", ... or ""
  uint64_t packets = 0;
  int64_t expected = 0;     // highest extended seq - first + 1
  int64_t lost = 0;         // expected - distinct sequence numbers received (never < 0)
  uint64_t duplicates = 0;  // packets whose sequence number was already seen
  uint64_t out_of_order = 0;
  double max_jitter_ms = 0, mean_jitter_ms = 0;  // RFC 3550 §6.4.1, as tshark computes
  double max_delta_ms = 0;                       // largest gap between packets
  int64_t start_ns = 0, end_ns = 0;
  std::string call_id;  // tied through SDP; "" when found by heuristics only
  bool from_sdp = false;
  std::optional<double> mos;  // ITU-T G.107 E-model estimate (MOS-CQ), when the codec is known
};

struct RtcpReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;  // /256
  int32_t cumulative_lost = 0;
  uint32_t highest_seq = 0;
  uint32_t jitter = 0;  // timestamp units
  uint32_t lsr = 0, dlsr = 0;
};

struct RtcpPacketReport {
  uint64_t frame = 0;
  int64_t time_ns = 0;
  Endpoint src, dst;
  int packet_type = 0;  // 200 SR, 201 RR (the first report of the compound packet)
  uint32_t sender_ssrc = 0;
  std::vector<RtcpReportBlock> blocks;
  std::optional<double> round_trip_ms;  // from LSR/DLSR and the matching SR we saw
  std::string call_id;
};

struct CaptureError {
  uint64_t offset = 0;  // byte offset in the file
  uint64_t frame = 0;   // frames read before it
  std::string reason;
};

struct Report {
  std::string file;
  uint64_t frames = 0;
  uint64_t bytes = 0;
  int64_t first_ns = 0, last_ns = 0;
  std::vector<CallReport> calls;
  std::vector<RtpStreamReport> rtp_streams;
  std::vector<RtcpPacketReport> rtcp;
  std::vector<DtmfEvent> dtmf;
  // Counters of what was skipped: frames of unknown link types, non-IP, bad checksums are not
  // checked; malformed headers; SIP that did not parse.
  uint64_t undecodable_frames = 0;
  uint64_t sip_parse_errors = 0;
  std::optional<CaptureError> error;  // the file ended badly; everything before it is here
};

}  // namespace capture
