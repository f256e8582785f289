// The ITU-T G.107 E-model, reduced to what a capture tells: the codec's equipment impairment
// and packet-loss robustness (G.113 Appendix I), the loss rate and an estimate of the
// one-way delay. Every other parameter keeps its G.107 default, so a G.711 call with no loss
// and no delay rates R = 93.2, MOS 4.41. The MOS is the conversational-quality estimate
// (MOS-CQE) that VoIPmonitor and RTCP XR report.
//
//   auto codec = capture::codecImpairment("PCMA", /*plc=*/true);
//   double r = capture::rFactor({.ie = codec->ie, .bpl = codec->bpl, .loss_percent = 1.5,
//                                .one_way_delay_ms = 60});
//   double mos = capture::mosFromR(r);
#pragma once

#include <optional>
#include <string_view>

namespace capture {

struct CodecImpairment {
  double ie = 0;   // equipment impairment factor, no loss
  double bpl = 1;  // packet-loss robustness factor
};

// G.113 Appendix I values, by RTP encoding name (case-insensitive): PCMU/PCMA (G.711, Bpl
// 25.1 with packet-loss concealment, 4.3 without), G729 (G.729A + VAD: Ie 11, Bpl 19),
// G723 (G.723.1 6.3 kbit/s + VAD: Ie 15, Bpl 16.1), GSM-EFR (Ie 5, Bpl 10). nullopt for the
// codecs G.113 gives no Bpl for (GSM full rate, iLBC, Opus, wideband codecs, ...).
std::optional<CodecImpairment> codecImpairment(std::string_view encoding, bool plc);

struct EModelInput {
  double ie = 0;
  double bpl = 25.1;
  double loss_percent = 0;      // Ppl, 0-100
  double burst_ratio = 1;       // BurstR: 1 for random loss
  double one_way_delay_ms = 0;  // T = Ta (mouth to ear); the echo path Tr is 2T
};

// The rating factor R (G.107 §3): Ro - Is - Id - Ie,eff + A, with the default values of
// G.107 Table 1 for the parameters not in `in`.
double rFactor(const EModelInput& in);

// G.107 Annex B: 1 below R = 0, 4.5 above R = 100, 1 + 0.035R + R(R-60)(100-R)7e-6 between.
double mosFromR(double r);

}  // namespace capture
