// SIP Domains and Credential Lists as Twilio shapes them (rest_context.h): not written yet;
// every path answers 404 until it is.
#include "api/internal/rest_context.h"

namespace api::internal {

HttpReply sipResources(store::Store&, const MasterKey&, Ctx& c, std::string_view) {
  return notFound(c.req.path());
}

}  // namespace api::internal
