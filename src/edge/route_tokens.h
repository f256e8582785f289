// Unforgeable marks the proxy leaves in what it sends, so a later message can prove that it
// belongs to something this proxy did (RFC 3261 §16.4, §16.7, §16.11 leave the "how" to the
// proxy):
//  - the branch of every request it forwards: a response that matches no transaction is
//    relayed only when its top Via carries a branch of ours (no reflection through forged
//    responses);
//  - a token in its Record-Route, over the dialog's Call-ID and the caller's tag: an
//    in-dialog request is relayed only when it loose-routes through a Record-Route of ours
//    for its own dialog (no open relay through a made-up To tag).
// Both are HMAC-SHA256 truncated to 64 bits, under a key every node of a cluster shares.
//
//   edge::RouteTokens tokens(secret);
//   std::string branch = tokens.branch(loopHash(request), unique);
//   if (tokens.verifyBranch(via.branch())) ...
//   std::string rr = "<sip:192.0.2.1;lr;" + std::string(RouteTokens::kParam) + "=" +
//                    tokens.dialogToken(call_id, from_tag) + ">";
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace edge {

class RouteTokens {
 public:
  // The Record-Route URI parameter carrying the dialog token.
  static constexpr std::string_view kParam = "sbd";
  // Every branch this proxy makes starts with this (loop detection reads what follows).
  static constexpr std::string_view kBranchPrefix = "z9hG4bKsb";

  // `secret`: any length; empty makes a random key (tokens then die with the process).
  explicit RouteTokens(std::string_view secret);
  ~RouteTokens();
  RouteTokens(const RouteTokens&) = delete;
  RouteTokens& operator=(const RouteTokens&) = delete;

  // "z9hG4bKsb" + loop_hash + "." + 12 hex digits of `unique` + "." + 16 hex digits of MAC.
  std::string branch(std::string_view loop_hash, uint64_t unique) const;
  // True for a branch made by branch() under this key.
  bool verifyBranch(std::string_view branch) const;

  // 16 hex digits binding a dialog (its Call-ID and the tag of the request that created it).
  std::string dialogToken(std::string_view call_id, std::string_view creator_tag) const;
  // True when `token` was made for this Call-ID and one of the two tags (requests from the
  // callee carry the creator's tag in To, those from the caller in From).
  bool verifyDialog(std::string_view token, std::string_view call_id, std::string_view tag_a,
                    std::string_view tag_b) const;

 private:
  struct Mac;
  // 16 hex digits of HMAC-SHA256(key, domain || 0 || a || 0 || b).
  std::string mac(char domain, std::string_view a, std::string_view b) const;

  std::unique_ptr<Mac> mac_;
};

}  // namespace edge
