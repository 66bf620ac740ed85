// The caller the gateway established for a route's declared Access (api/gateway.cpp), read by
// handlers instead of authenticating by hand:
//
//   get("/api/v1/chats", do_list).user()   →   const User& me = signed_in(call);
//
#pragma once

#include "auth/users.hpp"
#include "http/pipeline.hpp"

namespace ec {

// The signed-in user of a kUser / kAccessToken route, or of a kUserOrAdmin / kOptional route
// whose caller is a user (check call.caller first there). Reading it on a route that admitted no
// user is a declaration bug: it aborts in debug builds.
const User& signed_in(const Call& call);

// The user, when a kOptional or kUserOrAdmin route's caller is one; else nullptr.
const User* user_if_any(const Call& call);

inline bool called_by_admin(const Call& call) { return call.caller == CallerKind::kAdmin; }

}  // namespace ec
