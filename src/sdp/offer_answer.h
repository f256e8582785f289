// RFC 3264 offer/answer for Switchboard's media: G.711 (PCMU, PCMA) over RTP/AVP with
// RFC 4733 telephone-event, nothing else (the product does not support G.729). makeAnswer
// keeps the offerer's order of preference, mirrors the stream direction and rejects (port 0)
// every stream it cannot take; with no acceptable audio stream it fails with 488.
//
//   auto ans = sdp::makeAnswer(*offer, {.address = "192.0.2.10", .audio_port = 40000});
//   if (!ans) return reply(ans.error().status);  // 488 Not Acceptable Here
//   send(sdp::serialize(ans->sdp)); media.start(ans->audio);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "sdp/sdp.h"

namespace sdp {

// What we can do, and where we receive. One audio port: a call leg carries one audio
// stream, so the first acceptable audio m= line is taken and any later one gets port 0.
struct LocalMedia {
  std::string address;      // our RTP address, IPv4 or IPv6 (required)
  uint16_t audio_port = 0;  // our RTP port for the audio stream (required)
  std::string username = "switchboard";
  std::string session_id = "0";
  std::string session_version = "0";  // bumping it on a re-offer is the caller's job
  uint32_t ptime = 20;                // the packetisation we ask to receive
  bool telephone_event = true;
  int telephone_event_pt = 101;  // 96..127, for our offers; answers reuse the offerer's number
};

// What was agreed for the audio stream, from our side.
struct AudioAgreement {
  int payload_type = 0;  // what we send: 0 (PCMU), 8 (PCMA), or a dynamic number mapped to them
  std::string encoding;  // "PCMU" or "PCMA"
  std::vector<Rtpmap> codecs;   // every G.711 format agreed, in preference order; the peer
                                // may send any of them
  int telephone_event_pt = -1;  // -1: no RFC 4733 events
  uint32_t ptime = 20;          // the packetisation the peer asked to receive
  // kSendRecv, kSendOnly (we send, the peer does not), kRecvOnly or kInactive. A peer
  // holding with c=0.0.0.0 (RFC 3264 §8.4) takes the send side away.
  Direction direction = Direction::kSendRecv;
  std::string remote_address;
  uint16_t remote_port = 0;
  size_t stream_index = 0;  // which m= line
};

struct Answer {
  SessionDescription sdp;
  AudioAgreement audio;
};

// The answer to a remote offer: as many m= lines as the offer, in its order. Errors: 488
// (kUnsupported) when no audio stream is acceptable, its reason naming what was offered;
// 500 (kInvalidArgument) when `local` lacks an address or port.
common::Result<Answer> makeAnswer(const SessionDescription& offer, const LocalMedia& local);

// Our offer: one audio stream with PCMU, PCMA and (unless switched off) telephone-event.
SessionDescription makeOffer(const LocalMedia& local);

// Reads the remote answer to our offer: the codec to send, the telephone-event payload type
// and where to send. 488 (kUnsupported) when it accepted no G.711 codec on RTP/AVP.
common::Result<AudioAgreement> readAnswer(const SessionDescription& answer);

}  // namespace sdp
