#pragma once
#include <stdint.h>
#include <stddef.h>
int ks_write(int fd, const void *buf, size_t n);
int ks_argc(void);
char **ks_argv(void);
