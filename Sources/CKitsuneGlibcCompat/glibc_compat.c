#include "kitsune_glibc_compat.h"

/* Only the portable link (Package.swift defines this when it wraps) references the old versions. */
#ifdef KITSUNE_PORTABLE_LINK

/* The versions every x86_64 glibc and libstdc++ since 2004/2009 export. */
extern double kitsune_hypot_2_2_5(double, double);
extern float kitsune_hypotf_2_2_5(float, float);
extern void kitsune_cv_wait_3_4_11(void *cv, void *lock);
__asm__(".symver kitsune_hypot_2_2_5,hypot@GLIBC_2.2.5");
__asm__(".symver kitsune_hypotf_2_2_5,hypotf@GLIBC_2.2.5");
__asm__(".symver kitsune_cv_wait_3_4_11,_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");

double __wrap_hypot(double x, double y) { return kitsune_hypot_2_2_5(x, y); }
float __wrap_hypotf(float x, float y) { return kitsune_hypotf_2_2_5(x, y); }

/* std::condition_variable::wait(std::unique_lock<std::mutex>&): `this` and the lock, by pointer. */
void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *cv, void *lock) {
    kitsune_cv_wait_3_4_11(cv, lock);
}

#endif
