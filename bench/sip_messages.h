// Realistic SIP messages for the parser benchmarks: what a carrier edge sees most (an INVITE
// with SDP of about 900 bytes, a REGISTER with digest credentials, the 180 and 200 answers).
#pragma once

#include <string_view>

namespace bench {

inline constexpr std::string_view kInvite =
    "INVITE sip:+14155550123@sip.switchboard.example.com;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.17:5060;branch=z9hG4bK-524287-1---a6f2c8e3d1b0f977;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:alice@198.51.100.17:5060;transport=udp>\r\n"
    "To: <sip:+14155550123@sip.switchboard.example.com;user=phone>\r\n"
    "From: \"Alice Example\" <sip:alice@switchboard.example.com>;tag=4f3a9c21\r\n"
    "Call-ID: 8d1f6b2a9e0c4d7f@198.51.100.17\r\n"
    "CSeq: 1 INVITE\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n"
    "Content-Type: application/sdp\r\n"
    "Supported: replaces, norefersub, timer\r\n"
    "User-Agent: Zoiper rv2.10.19.9\r\n"
    "Content-Length: 285\r\n"
    "\r\n"
    "v=0\r\n"
    "o=Z 1710418531412 1 IN IP4 198.51.100.17\r\n"
    "s=Z\r\n"
    "c=IN IP4 198.51.100.17\r\n"
    "t=0 0\r\n"
    "m=audio 8000 RTP/AVP 0 8 101 3 110\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=rtpmap:3 GSM/8000\r\n"
    "a=rtpmap:110 speex/8000\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

inline constexpr std::string_view kRegister =
    "REGISTER sip:switchboard.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 203.0.113.45:5060;branch=z9hG4bK-d8754z-1f2e3d4c5b6a7980;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:1001@203.0.113.45:5060;rinstance=8a1b2c3d4e5f6071;transport=UDP>\r\n"
    "To: <sip:1001@switchboard.example.com>\r\n"
    "From: <sip:1001@switchboard.example.com>;tag=6a7b8c9d\r\n"
    "Call-ID: NzQ5ZjQ3ZmE2YjE4ZGM0OGRhZjc0ZjE0ZTg1ZTM2YjI\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Expires: 3600\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n"
    "User-Agent: Linphone/5.2.0 (belle-sip/5.2.0)\r\n"
    "Authorization: Digest username=\"1001\",realm=\"switchboard.example.com\","
    "nonce=\"5f8a2b1c9d3e4f5a6b7c8d9e0f1a2b3c\",uri=\"sip:switchboard.example.com\","
    "response=\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",cnonce=\"a1b2c3d4\",nc=00000001,"
    "qop=auth,algorithm=MD5\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

inline constexpr std::string_view kOk =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP "
    "198.51.100.17:5060;branch=z9hG4bK-524287-1---a6f2c8e3d1b0f977;rport=5060;received=198.51.100."
    "17\r\n"
    "Record-Route: <sip:203.0.113.1;lr;ftag=4f3a9c21>\r\n"
    "Contact: <sip:+14155550123@192.0.2.80:5060>\r\n"
    "To: <sip:+14155550123@sip.switchboard.example.com;user=phone>;tag=as5e2d7c1a\r\n"
    "From: \"Alice Example\" <sip:alice@switchboard.example.com>;tag=4f3a9c21\r\n"
    "Call-ID: 8d1f6b2a9e0c4d7f@198.51.100.17\r\n"
    "CSeq: 1 INVITE\r\n"
    "Server: Switchboard\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO\r\n"
    "Supported: replaces, timer\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 211\r\n"
    "\r\n"
    "v=0\r\n"
    "o=root 1823 1823 IN IP4 192.0.2.80\r\n"
    "s=Switchboard\r\n"
    "c=IN IP4 192.0.2.80\r\n"
    "t=0 0\r\n"
    "m=audio 17562 RTP/AVP 0 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

inline constexpr std::string_view kRinging =
    "SIP/2.0 180 Ringing\r\n"
    "Via: SIP/2.0/UDP "
    "198.51.100.17:5060;branch=z9hG4bK-524287-1---a6f2c8e3d1b0f977;rport=5060;received=198.51.100."
    "17\r\n"
    "Record-Route: <sip:203.0.113.1;lr;ftag=4f3a9c21>\r\n"
    "Contact: <sip:+14155550123@192.0.2.80:5060>\r\n"
    "To: <sip:+14155550123@sip.switchboard.example.com;user=phone>;tag=as5e2d7c1a\r\n"
    "From: \"Alice Example\" <sip:alice@switchboard.example.com>;tag=4f3a9c21\r\n"
    "Call-ID: 8d1f6b2a9e0c4d7f@198.51.100.17\r\n"
    "CSeq: 1 INVITE\r\n"
    "Server: Switchboard\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

}  // namespace bench
