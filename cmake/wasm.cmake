# Toolchain file for the Worker's core: wasm32-wasi.
# Default: Debian's clang-16 + lld-16 + wasi-libc + libc++-16-dev-wasm32 (the parts of wasi-sdk).
# With WASI_SDK_PATH set (env or -D), a real wasi-sdk is used instead.
set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(WASI TRUE)
list(APPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})

if(NOT WASI_SDK_PATH AND DEFINED ENV{WASI_SDK_PATH})
  set(WASI_SDK_PATH $ENV{WASI_SDK_PATH})
endif()

if(WASI_SDK_PATH)
  set(CMAKE_C_COMPILER ${WASI_SDK_PATH}/bin/clang)
  set(CMAKE_CXX_COMPILER ${WASI_SDK_PATH}/bin/clang++)
  set(CMAKE_SYSROOT ${WASI_SDK_PATH}/share/wasi-sysroot)
  set(_stdinc "")
else()
  set(CMAKE_C_COMPILER clang-16)
  set(CMAKE_CXX_COMPILER clang++-16)
  # Debian's clang driver does not find libc++'s wasm headers on its own (DESIGN.md §2).
  set(_stdinc "-nostdinc++ -isystem /usr/include/wasm32-wasi/c++/v1")
endif()

set(CMAKE_C_COMPILER_TARGET wasm32-wasi)
set(CMAKE_CXX_COMPILER_TARGET wasm32-wasi)
set(CMAKE_CXX_FLAGS_INIT "${_stdinc} -msimd128 -Wno-unused-command-line-argument")
set(CMAKE_EXECUTABLE_SUFFIX ".wasm")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG")
set(CMAKE_CXX_FLAGS_MINSIZEREL "-Oz -DNDEBUG")
# No <FLAGS> on the link line: with -O there, clang runs wasm-opt itself without feature flags and
# binaryen rejects sign-ext ops. We run wasm-opt explicitly as a post-build step.
set(CMAKE_CXX_LINK_EXECUTABLE
    "<CMAKE_CXX_COMPILER> --target=wasm32-wasi <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>")
# nlohmann is header-only and lives in /usr/include; wasi's driver already searches it.
set(nlohmann_json_DIR /usr/share/cmake/nlohmann_json CACHE PATH "")
