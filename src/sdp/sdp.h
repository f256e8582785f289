// Session descriptions (RFC 4566): a value model, a parser and a serializer. The model owns
// its strings (SDP bodies are small and outlive the SIP message that carried them in a
// call's state), keeps unknown attributes verbatim and offers typed helpers for what the
// media path needs: rtpmap, fmtp, ptime, maxptime and the stream direction.
//
//   auto offer = sdp::parse(invite.body());
//   if (!offer) return reply(offer.error().status);  // 400
//   for (const auto& m : offer->media) if (m.media == "audio") use(m.payloadTypes());
//   send(sdp::serialize(*offer));  // CRLF, RFC order; same text as parsed (bar line ends)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sdp {

// Bounds on what parse() accepts. An SDP body rides in one SIP message, and a session of
// ours has a handful of streams: anything near these is an attack or a bug.
inline constexpr size_t kMaxDocumentBytes = 64 * 1024;
inline constexpr size_t kMaxLineBytes = 4096;

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view directionName(Direction d);
// "sendrecv", "sendonly", "recvonly", "inactive"; nullopt for anything else.
std::optional<Direction> directionFromName(std::string_view name);

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>
struct Origin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const Origin&) const = default;
};

// c=<nettype> <addrtype> <connection-address>
struct Connection {
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address;  // as written, with any multicast /ttl and /count
  bool operator==(const Connection&) const = default;
};

// b=<bwtype>:<bandwidth>
struct Bandwidth {
  std::string type;  // CT, AS, TIAS, ...
  uint64_t value = 0;
  bool operator==(const Bandwidth&) const = default;
};

// a=<name> or a=<name>:<value>; the value is kept verbatim.
struct Attribute {
  std::string name;
  std::optional<std::string> value;  // nullopt for a property attribute (a=sendrecv)
  bool operator==(const Attribute&) const = default;
};

// t=<start> <stop> and the r= lines that follow it.
struct Timing {
  std::string start = "0";
  std::string stop = "0";
  std::vector<std::string> repeats;  // r= values, as written
  bool operator==(const Timing&) const = default;
};

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]
struct Rtpmap {
  int payload_type = 0;
  std::string encoding;  // as written: "PCMU", "telephone-event"
  uint32_t clock_rate = 0;
  uint32_t channels = 1;
  bool operator==(const Rtpmap&) const = default;
};

// One m= line and the lines that follow it up to the next m=.
struct Media {
  std::string media;  // audio, video, application, ...
  uint16_t port = 0;
  std::optional<uint16_t> port_count;  // "/<number of ports>" when written
  std::string proto;                   // RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF, ...
  std::vector<std::string> formats;    // never empty in a parsed description
  std::optional<std::string> title;    // i=
  // Usually none (the session's applies) or one; several only for layered multicast
  // (RFC 4566 §5.7).
  std::vector<Connection> connections;
  std::vector<Bandwidth> bandwidths;
  std::optional<std::string> key;  // k=
  std::vector<Attribute> attributes;

  bool operator==(const Media&) const = default;

  uint16_t numberOfPorts() const { return port_count.value_or(1); }
  // True when the formats are RTP payload type numbers (any proto with an RTP/ component).
  bool isRtp() const;
  // Numeric formats (RTP payload types) in the order written, i.e. order of preference.
  std::vector<int> payloadTypes() const;
  // The rtpmap for a payload type; nullopt when absent or malformed.
  std::optional<Rtpmap> rtpmap(int payload_type) const;
  // The format parameters of a payload type ("0-16" for a=fmtp:101 0-16). The views point
  // into this Media and live as long as it is unchanged.
  std::optional<std::string_view> fmtp(int payload_type) const;
  std::optional<uint32_t> ptime() const;
  std::optional<uint32_t> maxptime() const;
  // The media-level direction attribute, if any (see SessionDescription::directionOf).
  std::optional<Direction> direction() const;
  // The value of the first attribute with this name; "" for a property attribute.
  std::optional<std::string_view> attribute(std::string_view name) const;
};

struct SessionDescription {
  int version = 0;
  Origin origin;
  std::string name = "-";           // s=
  std::optional<std::string> info;  // i=
  std::optional<std::string> uri;   // u=
  std::vector<std::string> emails;  // e=
  std::vector<std::string> phones;  // p=
  std::optional<Connection> connection;
  std::vector<Bandwidth> bandwidths;
  std::vector<Timing> timings;      // serialized as "t=0 0" when empty
  std::optional<std::string> zone;  // z=
  std::optional<std::string> key;   // k=
  std::vector<Attribute> attributes;
  std::vector<Media> media;

  bool operator==(const SessionDescription&) const = default;

  // Session-level direction (sendrecv when absent).
  Direction direction() const;
  // The direction in force for one stream: its own attribute, else the session's.
  Direction directionOf(const Media& m) const;
  // The connection in force for one stream: its first c=, else the session's, else null.
  const Connection* connectionOf(const Media& m) const;
  std::optional<std::string_view> attribute(std::string_view name) const;
};

// Parses an SDP body with CRLF or bare LF line ends. Errors carry status 400 (the SIP
// answer to a malformed body) and code kInvalidArgument, or kTooLarge past the bounds above.
common::Result<SessionDescription> parse(std::string_view text);

// CRLF line ends, RFC 4566 order. For any description parse() returned,
// parse(serialize(d)) == d. A hand-built description must keep the RFC's shapes (no CR or
// LF in values, no spaces or empty strings in o=, c= and m= fields, a format per m=) to
// parse back.
std::string serialize(const SessionDescription& sdp);

}  // namespace sdp
