#include "ckitsune.h"
#include <unistd.h>
#include <errno.h>
static int g_argc; static char **g_argv;
__attribute__((constructor)) static void ks_capture(int argc, char **argv, char **envp) { g_argc = argc; g_argv = argv; (void)envp; }
int ks_argc(void) { return g_argc; }
char **ks_argv(void) { return g_argv; }
int ks_write(int fd, const void *buf, size_t n) { ssize_t r = write(fd, buf, n); return r < 0 ? -errno : (int)r; }
