#include "capture/emodel.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

namespace capture {
namespace {

// G.107 Table 1 defaults.
constexpr double kSlr = 8, kRlr = 2, kStmr = 15, kLstr = 18, kDs = 3;
constexpr double kTelr = 65, kWepl = 110, kQdu = 1, kNc = -70, kNfor = -64, kPs = 35, kPr = 35;
constexpr double kMt = 100, kSt = 1;  // delay sensitivity (G.107 (06/2015) §3.5)

double pow10(double x) {
  return std::pow(10.0, x);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The basic signal-to-noise ratio Ro and the noise No it needs (G.107 §3.2).
struct Noise {
  double no, ro;
};
Noise basicNoise() {
  const double olr = kSlr + kRlr;
  const double nos = kPs - kSlr - kDs - 100 + 0.004 * std::pow(kPs - olr - kDs - 14, 2);
  const double pre = kPr + 10 * std::log10(1 + pow10((10 - kLstr) / 10));
  const double nor = kRlr - 121 + pre + 0.008 * std::pow(pre - 35, 2);
  const double nfo = kNfor + kRlr;
  const double no =
      10 * std::log10(pow10(kNc / 10) + pow10(nos / 10) + pow10(nor / 10) + pow10(nfo / 10));
  return {no, 15 - 1.5 * (kSlr + no)};
}

// Simultaneous impairments Is (G.107 §3.3): loudness, sidetone, quantisation.
double simultaneousImpairment(const Noise& n, double t) {
  const double olr = kSlr + kRlr;
  const double xolr = olr + 0.2 * (64 + n.no - kRlr);
  const double iolr = 20 * (std::pow(1 + std::pow(xolr / 8, 8), 1.0 / 8) - xolr / 8);
  const double stmro = -10 * std::log10(pow10(-kStmr / 10) + std::exp(-t / 4) * pow10(-kTelr / 10));
  const double ist = 12 * std::pow(1 + std::pow((stmro - 13) / 6, 8), 1.0 / 8) -
                     28 * std::pow(1 + std::pow((stmro + 1) / 19.4, 35), 1.0 / 35) -
                     13 * std::pow(1 + std::pow((stmro - 3) / 33, 13), 1.0 / 13) + 29;
  const double q = 37 - 15 * std::log10(kQdu);
  const double g = 1.07 + 0.258 * q + 0.0602 * q * q;
  const double y = (n.ro - 100) / 15 + 46 / 8.4 - g / 9;
  const double z = 46.0 / 30 - g / 40;
  const double iq = 15 * std::log10(1 + pow10(y) + pow10(z));
  return iolr + ist + iq;
}

// Delay impairments Id (G.107 §3.4): talker echo, listener echo, absolute delay.
double delayImpairment(const Noise& n, double t) {
  const double ta = t, tr = 2 * t;
  const double terv =
      kTelr - 40 * std::log10((1 + t / 10) / (1 + t / 150)) + 6 * std::exp(-0.3 * t * t);
  const double roe = -1.5 * (n.no - kRlr);
  const double re = 80 + 2.5 * (terv - 14);
  const double idte =
      ((roe - re) / 2 + std::sqrt(std::pow(roe - re, 2) / 4 + 100) - 1) * (1 - std::exp(-t));
  const double rle = 10.5 * (kWepl + 7) * std::pow(tr + 1, -0.25);
  const double idle = (n.ro - rle) / 2 + std::sqrt(std::pow(n.ro - rle, 2) / 4 + 169);
  double idd = 0;
  if (ta > kMt) {
    const double x = std::log10(ta / kMt) / std::log10(2.0);
    idd = 25 * (std::pow(1 + std::pow(x, 6 * kSt), 1 / (6 * kSt)) -
                3 * std::pow(1 + std::pow(x / 3, 6 * kSt), 1 / (6 * kSt)) + 2);
  }
  return idte + idle + idd;
}

}  // namespace

std::optional<CodecImpairment> codecImpairment(std::string_view e, bool plc) {
  if (iequals(e, "PCMU") || iequals(e, "PCMA") || iequals(e, "G711") || iequals(e, "G711U") ||
      iequals(e, "G711A")) {
    return CodecImpairment{0, plc ? 25.1 : 4.3};
  }
  if (iequals(e, "G729") || iequals(e, "G729A") || iequals(e, "G729B") || iequals(e, "G729AB")) {
    return CodecImpairment{11, 19.0};
  }
  if (iequals(e, "G723") || iequals(e, "G7231")) return CodecImpairment{15, 16.1};
  if (iequals(e, "GSM-EFR")) return CodecImpairment{5, 10.0};
  return std::nullopt;
}

double rFactor(const EModelInput& in) {
  const double t = std::max(0.0, in.one_way_delay_ms);
  const Noise n = basicNoise();
  const double is = simultaneousImpairment(n, t);
  const double id = delayImpairment(n, t);
  const double ppl = std::clamp(in.loss_percent, 0.0, 100.0);
  const double burst = in.burst_ratio > 0 ? in.burst_ratio : 1;
  const double ie_eff = in.ie + (95 - in.ie) * ppl / (ppl / burst + in.bpl);
  return n.ro - is - id - ie_eff;
}

double mosFromR(double r) {
  if (r <= 0) return 1.0;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

}  // namespace capture
