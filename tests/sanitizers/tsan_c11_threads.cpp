// C11 threads for ThreadSanitizer builds only (TIDEMARK_SANITIZE=thread links this into every
// executable, see cmake/Sanitizers.cmake).
//
// librdkafka starts its threads with C11 thrd_create and locks with mtx_lock and cnd_wait. glibc
// implements those by calling its pthread functions internally, past the interceptors of GCC 12's
// ThreadSanitizer (which has none for the C11 functions). A thread it never saw start crashes the
// runtime on its first allocation, and locks it never saw give false data races. Defined in the
// executable, these functions take precedence over glibc's for librdkafka and go through the
// intercepted pthread functions instead. glibc lays mtx_t, cnd_t and once_flag out as
// pthread_mutex_t, pthread_cond_t and pthread_once_t, which is what makes the casts below sound.
#include <errno.h>
#include <pthread.h>
#include <threads.h>

#include <cstdint>
#include <new>

namespace {

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(once_flag) == sizeof(pthread_once_t));

int c11_result(int error) {
  switch (error) {
    case 0:
      return thrd_success;
    case ENOMEM:
      return thrd_nomem;
    case ETIMEDOUT:
      return thrd_timedout;
    case EBUSY:
      return thrd_busy;
    default:
      return thrd_error;
  }
}

pthread_mutex_t* as_pthread(mtx_t* mutex) {
  return reinterpret_cast<pthread_mutex_t*>(mutex);
}
pthread_cond_t* as_pthread(cnd_t* condition) {
  return reinterpret_cast<pthread_cond_t*>(condition);
}

struct Start {
  thrd_start_t function;
  void* argument;
};

void* run(void* raw) {
  Start start = *static_cast<Start*>(raw);
  delete static_cast<Start*>(raw);
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(start.function(start.argument)));
}

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) Start{function, argument};
  if (start == nullptr) return thrd_nomem;
  int error = pthread_create(thread, nullptr, run, start);
  if (error != 0) delete start;
  return c11_result(error);
}

int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  int error = pthread_join(thread, &value);
  if (error == 0 && result != nullptr) {
    *result = static_cast<int>(reinterpret_cast<std::intptr_t>(value));
  }
  return c11_result(error);
}

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if ((type & mtx_recursive) != 0) {
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  }
  int error = pthread_mutex_init(as_pthread(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return c11_result(error);
}

int mtx_lock(mtx_t* mutex) {
  return c11_result(pthread_mutex_lock(as_pthread(mutex)));
}

int mtx_unlock(mtx_t* mutex) {
  return c11_result(pthread_mutex_unlock(as_pthread(mutex)));
}

void mtx_destroy(mtx_t* mutex) {
  pthread_mutex_destroy(as_pthread(mutex));
}

int cnd_init(cnd_t* condition) {
  return c11_result(pthread_cond_init(as_pthread(condition), nullptr));
}

int cnd_signal(cnd_t* condition) {
  return c11_result(pthread_cond_signal(as_pthread(condition)));
}

int cnd_broadcast(cnd_t* condition) {
  return c11_result(pthread_cond_broadcast(as_pthread(condition)));
}

int cnd_wait(cnd_t* condition, mtx_t* mutex) {
  return c11_result(pthread_cond_wait(as_pthread(condition), as_pthread(mutex)));
}

int cnd_timedwait(cnd_t* condition, mtx_t* mutex, const struct timespec* deadline) {
  return c11_result(pthread_cond_timedwait(as_pthread(condition), as_pthread(mutex), deadline));
}

void cnd_destroy(cnd_t* condition) {
  pthread_cond_destroy(as_pthread(condition));
}

void call_once(once_flag* flag, void (*function)(void)) {
  pthread_once(reinterpret_cast<pthread_once_t*>(flag), function);
}

}  // extern "C"
