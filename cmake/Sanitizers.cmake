# TIDEMARK_SANITIZE: build every target (libraries, `tidemark`, tests, bench tools) with GCC's
# sanitizers, for scripts/sanitize.sh. Empty (the default) builds without them. Values:
#   address,undefined   AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer
#   thread              ThreadSanitizer (cannot be combined with address)
# Undefined behaviour is never recoverable: the first report stops the process, like a crash.
set(TIDEMARK_SANITIZE "" CACHE STRING
    "Sanitizers for every target: empty, address,undefined or thread (see scripts/sanitize.sh)")

if(TIDEMARK_SANITIZE)
  string(REPLACE "," ";" sanitizers "${TIDEMARK_SANITIZE}")
  foreach(sanitizer IN LISTS sanitizers)
    if(NOT sanitizer MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "TIDEMARK_SANITIZE: unknown sanitizer '${sanitizer}' "
                          "(use address,undefined or thread)")
    endif()
  endforeach()
  if("thread" IN_LIST sanitizers AND ("address" IN_LIST sanitizers OR "leak" IN_LIST sanitizers))
    message(FATAL_ERROR "TIDEMARK_SANITIZE: thread cannot be combined with address or leak")
  endif()
  set(sanitize_flags -fsanitize=${TIDEMARK_SANITIZE} -fno-omit-frame-pointer)
  if("undefined" IN_LIST sanitizers)
    list(APPEND sanitize_flags -fno-sanitize-recover=undefined)
  endif()
  # The instrumentation makes GCC's flow-based warnings unreliable (GCC's manual recommends
  # against -Werror with sanitizers): -Wmaybe-uninitialized reports moved-from std::variant
  # members in domain/result.h. The ordinary build keeps that warning as an error.
  add_compile_options(${sanitize_flags} -Wno-maybe-uninitialized)
  add_link_options(${sanitize_flags})
  if("thread" IN_LIST sanitizers)
    # librdkafka's C11 threads and locks, made visible to ThreadSanitizer (see the file). Every
    # executable gets the definitions; --undefined makes the linker take them from the archive,
    # and the executable exports them because librdkafka refers to them.
    add_library(tidemark_tsan_c11_threads STATIC
                ${CMAKE_SOURCE_DIR}/tests/sanitizers/tsan_c11_threads.cpp)
    link_libraries(tidemark_tsan_c11_threads)
    add_link_options(-Wl,--undefined=thrd_create)
  endif()
  message(STATUS "Sanitizers: ${TIDEMARK_SANITIZE}")
endif()
