// Webhook signatures as Twilio's libraries validate them (X-Twilio-Signature): base64 of
// HMAC-SHA1 keyed with the account's auth token over the URL exactly as configured (query
// included) followed by every form parameter as name + value, names in ascending order (the
// order of JavaScript's default sort: UTF-16 code units), a repeated name once per distinct
// value, values in that same order. A JSON body is signed through its hash instead: the URL
// gets bodySHA256=<hex SHA-256 of the body> and no parameters are appended.
//
//   api::FormParams p = {{"CallSid", sid}, {"From", from}};
//   request.header("X-Twilio-Signature", api::twilioSignature(token, url, p));
//
//   std::string url2 = api::withBodySha256(url, json);   // then sign url2 with no params
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace api {

// Decoded form fields in the order they are sent; names may repeat.
using FormParams = std::vector<std::pair<std::string, std::string>>;

// The text the HMAC covers.
std::string signatureBase(std::string_view url, const FormParams& params);
// base64(HMAC-SHA1(auth_token, signatureBase(url, params))).
std::string twilioSignature(std::string_view auth_token, std::string_view url,
                            const FormParams& params);
// Whether `signature` is the one for this request; compared in constant time.
bool signatureMatches(std::string_view auth_token, std::string_view signature, std::string_view url,
                      const FormParams& params);
// `url` with bodySHA256=<hex sha256(body)> added to its query string.
std::string withBodySha256(std::string_view url, std::string_view body);

// a < b in UTF-16 code-unit order (how JavaScript sorts strings), for UTF-8 input. It
// differs from byte order only between characters above U+FFFF and those in U+E000-U+FFFF.
bool utf16Less(std::string_view a, std::string_view b);

}  // namespace api
