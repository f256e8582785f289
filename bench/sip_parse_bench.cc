// Switchboard's SIP parser and serializer side by side with libosip2 on the same messages,
// each doing the equivalent full parse: every header field split, and the typed values
// (with their URIs) of Via, From, To, Contact, CSeq, Call-ID, Route/Record-Route,
// Max-Forwards, Content-Length/Type, Expires and Authorization, as osip_message_parse does.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include <osipparser2/osip_parser.h>

#include "sip/auth.h"
#include "sip/message.h"
#include "sip_messages.h"

namespace {

// Touches every typed header our stack would use, forcing the lazy parses osip does eagerly.
size_t fullParse(std::string_view bytes) {
  auto m = sip::Message::parse(bytes);
  if (!m) std::abort();
  size_t sink = m->headers().size();
  const auto& vias = m->vias();
  if (!vias) std::abort();
  sink += vias->size();
  if (!m->from() || !m->to() || !m->cseq() || !m->callId()) std::abort();
  sink += m->from()->uri.host().size() + m->to()->uri.host().size() + m->cseq()->number;
  if (m->headerCount(sip::HeaderId::kContact) && !m->contacts()) std::abort();
  if (m->headerCount(sip::HeaderId::kRecordRoute) && !m->recordRoutes()) std::abort();
  if (m->headerCount(sip::HeaderId::kRoute) && !m->routes()) std::abort();
  if (m->headerCount(sip::HeaderId::kMaxForwards)) sink += m->maxForwards().value_or(0);
  if (m->headerCount(sip::HeaderId::kExpires)) sink += m->expires().value_or(0);
  if (m->headerCount(sip::HeaderId::kContentType) && !m->contentType()) std::abort();
  if (const sip::HeaderField* auth = m->findHeader(sip::HeaderId::kAuthorization)) {
    auto cred = sip::parseCredentials(auth->value);
    if (!cred) std::abort();
    sink += cred->params().size();
  }
  return sink + m->body().size();
}

void BM_Switchboard_Parse(benchmark::State& state, std::string_view msg) {
  for (auto _ : state) benchmark::DoNotOptimize(fullParse(msg));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(msg.size()));
}

void BM_Osip_Parse(benchmark::State& state, std::string_view msg) {
  static bool init = (parser_init(), true);
  (void)init;
  for (auto _ : state) {
    osip_message_t* m = nullptr;
    osip_message_init(&m);
    if (osip_message_parse(m, msg.data(), msg.size()) != 0) std::abort();
    benchmark::DoNotOptimize(m);
    osip_message_free(m);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(msg.size()));
}

// Serializing a parsed message: unchanged (byte for byte), and with a proxy's edits.
void serializeLoop(benchmark::State& state, const sip::Message& m) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    m.serializeTo(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Switchboard_SerializeUnchanged(benchmark::State& state) {
  auto m = sip::Message::parse(bench::kInvite);
  serializeLoop(state, *m);
}

void BM_Switchboard_SerializeProxyEdits(benchmark::State& state) {
  auto m = sip::Message::parse(bench::kInvite);
  m->edits().setRequestUri("sip:+14155550123@192.0.2.80:5060");
  m->edits().pushVia("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKsb1a2b3c4d5e6f");
  m->edits().addRecordRoute("<sip:203.0.113.1;lr;ftag=4f3a9c21>");
  m->edits().decrementMaxForwards();
  serializeLoop(state, *m);
}

void BM_Osip_Serialize(benchmark::State& state) {
  static bool init = (parser_init(), true);
  (void)init;
  osip_message_t* m = nullptr;
  osip_message_init(&m);
  if (osip_message_parse(m, bench::kInvite.data(), bench::kInvite.size()) != 0) std::abort();
  for (auto _ : state) {
    char* out = nullptr;
    size_t len = 0;
    // osip caches the text of an unmodified message; force a real re-serialization.
    osip_message_force_update(m);
    if (osip_message_to_str(m, &out, &len) != 0) std::abort();
    benchmark::DoNotOptimize(out);
    osip_free(out);
  }
  osip_message_free(m);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_Switchboard_Parse, invite, bench::kInvite);
BENCHMARK_CAPTURE(BM_Osip_Parse, invite, bench::kInvite);
BENCHMARK_CAPTURE(BM_Switchboard_Parse, register_digest, bench::kRegister);
BENCHMARK_CAPTURE(BM_Osip_Parse, register_digest, bench::kRegister);
BENCHMARK_CAPTURE(BM_Switchboard_Parse, ok_200, bench::kOk);
BENCHMARK_CAPTURE(BM_Osip_Parse, ok_200, bench::kOk);
BENCHMARK_CAPTURE(BM_Switchboard_Parse, ringing_180, bench::kRinging);
BENCHMARK_CAPTURE(BM_Osip_Parse, ringing_180, bench::kRinging);
BENCHMARK(BM_Switchboard_SerializeUnchanged);
BENCHMARK(BM_Switchboard_SerializeProxyEdits);
BENCHMARK(BM_Osip_Serialize);

}  // namespace

BENCHMARK_MAIN();
