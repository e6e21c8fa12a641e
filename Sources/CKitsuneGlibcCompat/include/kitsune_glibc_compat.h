/// CKitsuneGlibcCompat — lets the portable `kitsune` (linked by scripts/package with the static Swift
/// runtime and Foundation) start on glibc 2.34 / libstdc++ 3.4.29 (Amazon Linux 2023), though it is
/// built on Debian 12 (glibc 2.36, GCC 12).
///
/// The static Foundation references a few symbols whose newest version is younger than 2.34 / 3.4.29
/// (hypot and hypotf got GLIBC_2.35 versions; std::condition_variable::wait got GLIBCXX_3.4.30). The
/// portable link passes `--wrap=SYMBOL` for each, so those references land on the `__wrap_` functions
/// below, which call the older version of the same function (same ABI, same behaviour for Kitsune).
/// Nothing calls these directly; they exist only in the portable build (KITSUNE_PORTABLE_LINK).
#pragma once

double __wrap_hypot(double x, double y);
float __wrap_hypotf(float x, float y);
