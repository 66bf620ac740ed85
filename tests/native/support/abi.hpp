// The core's C ABI (src/abi/exports.cpp), as the native tests and benches call it.
#pragma once

#include <cstdint>

extern "C" {
char* core_input(uint32_t len);
const char* core_output();
uint32_t core_init(uint32_t len);
uint32_t core_start(uint32_t len);
uint32_t core_resume(uint32_t session, uint32_t len);
void core_cancel(uint32_t session);
uint32_t core_sessions();
uint32_t core_request_headers();
const double* core_gcra(double tat_us, double tat_frac, double now_ms, double period_ms,
                        double limit, double cost);
}
