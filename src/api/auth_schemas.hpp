// Request bodies of the accounts routes, shared by the canonical and seed adapters.
#pragma once

#include "http/validate.hpp"

namespace ec {

// Usernames are 3–32 of [a-z0-9_.-], compared case-insensitively (stored lower-cased).
inline const Schema kRegisterSchema = {
    field("username").string().required().length(3, 32).charset("a-z0-9_.-").case_insensitive(),
    field("password").string().required().length(8, 1024),
    field("email").string().email().max(254).nullable(),
};

// Login checks no username format: a malformed name is just a failed login (no enumeration).
inline const Schema kLoginSchema = {
    field("username").string().required().length(1, 64),
    field("password").string().required().length(1, 1024),
};

inline const Schema kRefreshSchema = {
    field("refreshToken").string().required().length(1, 4096),
};

inline const Schema kLogoutSchema = {
    field("refreshToken").string().length(1, 4096),
};

}  // namespace ec
