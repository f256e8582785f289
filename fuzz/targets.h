// The bodies of the libFuzzer targets, shared by the fuzz executables (fuzz/*_fuzz.cc) and
// by the regression test that replays every saved crasher (fuzz/regressions/<target>/).
// Each checks invariants and calls __builtin_trap() when one breaks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fuzz {

// Message::parse as datagram and stream, validate, every typed header, byte-exact
// serialization, proxy edits and responses re-parsed, and the stream framer.
void sipMessage(const uint8_t* data, size_t size);
// Uri::parse and URI equivalence (reflexive, symmetric).
void sipUri(const uint8_t* data, size_t size);
// sdp::parse; a parsed document serializes to one that parses to the same serialization;
// offer/answer never fails on a parsed offer except with 488, and its answer parses.
void sdpDocument(const uint8_t* data, size_t size);
// Credentials and challenges: parse, every accessor, and a rebuilt digest value parses.
void authHeader(const uint8_t* data, size_t size);
// The REST API's text inputs: form bodies (parse, re-encode, parse), JSON string escaping
// (read back by nlohmann), ISO dates, base64, Basic credentials and webhook URLs.
void apiInput(const uint8_t* data, size_t size);
// Capture files (pcap, pcapng) and streams of frames of every link type through the packet
// decoders: payload views stay inside their buffers and frames, reader errors inside the
// file, stats consistent; once with default bounds, once with bounds small enough to evict.
// Defined in capture_target.cc (links sb_capture).
void captureInput(const uint8_t* data, size_t size);
// The messaging codecs; the first octet says how the rest is read: 0 a stream of SMPP PDUs
// (each decoded one re-encodes to one that decodes equal; receipts format and parse back),
// 1 UTF-8 SMS text (encodeParts, decodePart and the Reassembler give the text back), 2 a
// short_message of every data_coding and a run of parts fed to a small Reassembler, 3 a DLR
// table.
void smppInput(const uint8_t* data, size_t size);

}  // namespace fuzz
