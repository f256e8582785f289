// Groups the SIP messages of a capture into calls (one per Call-ID) and works out what an
// operator asks of a failed call: final status, post-dial delay, setup time, duration and
// who hung up, challenges, retransmissions (counted as tshark counts them), ACK timeout,
// CANCEL, re-INVITEs, the codecs offered and answered and their changes, and SIP INFO DTMF.
// SDP bodies tell the media side (MediaBinder) which addresses carry a call's RTP.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/packet.h"
#include "capture/report.h"
#include "capture/rtp_analysis.h"

namespace sip {
class Message;
}

namespace capture {

class SipCallTracker {
 public:
  // Called for every SDP media endpoint (c= address, m= port) with the call it belongs to.
  using MediaBinder = std::function<void(const Endpoint&, const MediaBinding&)>;

  explicit SipCallTracker(MediaBinder binder);
  ~SipCallTracker();

  // True when the payload's first line is a SIP request or status line (cheap).
  static bool looksLikeSip(std::string_view bytes);

  // One whole message (UDP datagram, SCTP chunk, WebSocket message). Returns the Call-ID of
  // the call it joined ("" when it did not parse).
  std::string_view onMessage(const Payload& payload);
  // In-order TCP stream octets: framed into messages per direction. Returns the Call-ID of
  // the last message completed by these octets ("" when none).
  std::string_view onStream(const Payload& payload);
  void onStreamClosed(const Endpoint& a, const Endpoint& b);

  // Calls in order of their first message, and INFO DTMF, appended to the report. The flags
  // that need the media (media timeout, one-way audio, codec change without an offer) are
  // set here from report.rtp_streams, so call this after the RTP analyzer's finish().
  void finish(Report& report, int64_t media_timeout_ns);

  uint64_t parseErrors() const { return parse_errors_; }

 private:
  struct Call;
  struct Flow;
  // tshark's retransmission table: per Call-ID and address/port pair, the last CSeq seen,
  // its method, how far its transaction got, and the final status.
  struct ResendState {
    uint32_t cseq = 0;
    std::string method;
    enum class Stage : uint8_t { kNothing, kRequest, kProvisional, kFinal } stage = Stage::kNothing;
    int status = 0;
  };
  bool isResend(const Payload& payload, std::string_view call_id, uint32_t cseq,
                std::string_view method, int status);
  Call& callFor(std::string_view call_id);
  static std::optional<Endpoint> endpointOf(std::string_view address, uint16_t port);
  void onSdp(Call& call, const sip::Message& msg, const Payload& p, const SipMessageRecord& rec);
  std::string_view handle(std::string_view bytes, const Payload& payload, bool datagram);

  MediaBinder binder_;
  std::unordered_map<std::string, size_t> index_;  // Call-ID -> calls_ position
  std::vector<std::unique_ptr<Call>> calls_;
  std::unordered_map<std::string, std::unique_ptr<Flow>> flows_;  // TCP direction -> framer
  std::unordered_map<std::string, ResendState> resend_;           // tshark's resend table
  std::vector<DtmfEvent> info_dtmf_;
  uint64_t parse_errors_ = 0;
  uint64_t sdp_errors_ = 0;
  std::string last_call_id_;
};

}  // namespace capture
