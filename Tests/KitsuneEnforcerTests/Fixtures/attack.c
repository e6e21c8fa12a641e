// Test helper: performs one attack technique (or one tamper attempt) and reports the outcome as
// "OK" or "ERR <errno name>". Written for Kitsune's enforcer tests; runs as a packaged binary.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static int result(long r) {
    if (r < 0) { printf("ERR %s\n", strerrorname_np(errno)); fflush(stdout); return 1; }
    printf("OK\n"); fflush(stdout); return 0;
}

static int copy_to_memfd(const char *src) {
    int in = open(src, O_RDONLY);
    if (in < 0) { perror("open"); exit(2); }
    int fd = memfd_create("kitsune-test", MFD_CLOEXEC);
    if (fd < 0) { perror("memfd_create"); exit(2); }
    char buf[65536]; ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0) if (write(fd, buf, n) != n) exit(2);
    close(in);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: attack TECHNIQUE [ARG]\n"); return 2; }
    const char *t = argv[1], *a = argc > 2 ? argv[2] : "";
    char *child_argv[] = { (char *)"payload", NULL };
    if (!strcmp(t, "memfd-exec")) {              /* memfd_create + fexecve */
        int fd = copy_to_memfd(a);
        fexecve(fd, child_argv, environ);
        return result(-1);
    }
    if (!strcmp(t, "execveat-empty")) {          /* execveat(fd, "", AT_EMPTY_PATH) of a file */
        int fd = open(a, O_RDONLY);
        syscall(SYS_execveat, fd, "", child_argv, environ, AT_EMPTY_PATH);
        return result(-1);
    }
    if (!strcmp(t, "proc-fd-exec")) {            /* execve("/proc/self/fd/N") of a memfd */
        int fd = copy_to_memfd(a);
        char path[64]; snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        int keep = dup(fd);                      /* survive MFD_CLOEXEC */
        snprintf(path, sizeof path, "/proc/self/fd/%d", keep);
        execve(path, child_argv, environ);
        return result(-1);
    }
    if (!strcmp(t, "dlopen")) {
        void *h = dlopen(a, RTLD_NOW);
        if (!h) { printf("ERR dlopen: %s\n", dlerror()); return 1; }
        printf("OK\n"); return 0;
    }
    if (!strcmp(t, "mmap-exec")) {
        int fd = open(a, O_RDONLY);
        if (fd < 0) return result(-1);
        void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
        return result(p == MAP_FAILED ? -1 : 0);
    }
    if (!strcmp(t, "listener")) {                /* a second notification listener would steal ours */
        struct sock_filter f[] = { { BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW } };
        struct sock_fprog prog = { 1, f };
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        return result(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
    }
    if (!strcmp(t, "plain-filter")) {            /* an ordinary extra filter is fine */
        struct sock_filter f[] = { { BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW } };
        struct sock_fprog prog = { 1, f };
        return result(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
    }
    if (!strcmp(t, "kill")) return result(kill(atoi(a), SIGKILL));
    if (!strcmp(t, "kill-all")) return result(kill(-1, 0));
    if (!strcmp(t, "tgkill")) return result(syscall(SYS_tgkill, atoi(a), atoi(a), SIGKILL));
    if (!strcmp(t, "ptrace")) return result(ptrace(PTRACE_SEIZE, atoi(a), 0, 0));
    if (!strcmp(t, "pidfd-open")) return result(syscall(SYS_pidfd_open, atoi(a), 0));
    if (!strcmp(t, "nnp-off")) return result(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
    /* DDexec: open a process's memory for writing (its code can then be patched without an exec). */
    if (!strcmp(t, "procmem-write")) return result(open(*a ? a : "/proc/self/mem", O_RDWR));
    /* Ordinary writes that must keep working: a file in the writable dir, /dev/null, a pipe through /proc. */
    if (!strcmp(t, "write-file")) return result(open(a, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    /* READ_IMPLIES_EXEC makes later read-only mappings executable. */
    if (!strcmp(t, "personality-rie")) return result(personality(READ_IMPLIES_EXEC));
    if (!strcmp(t, "personality-query")) return result(personality(0xffffffff));
    if (!strcmp(t, "shm-exec")) {                /* System V shared memory mapped executable */
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0700);
        if (id < 0) return result(-1);
        void *p = shmat(id, NULL, SHM_EXEC);
        shmctl(id, IPC_RMID, NULL);
        return result(p == (void *)-1 ? -1 : 0);
    }
    if (!strcmp(t, "shm-plain")) {
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        if (id < 0) return result(-1);
        void *p = shmat(id, NULL, 0);
        shmctl(id, IPC_RMID, NULL);
        return result(p == (void *)-1 ? -1 : 0);
    }
    if (!strcmp(t, "ppid")) { printf("%d\n", getppid()); return 0; }
#if defined(__x86_64__)
    if (!strcmp(t, "int80")) {                   /* the i386 ABI (getpid = 20) on a 64-bit kernel */
        long r;
        __asm__ volatile ("int $0x80" : "=a"(r) : "a"(20L) : "memory");
        if (r < 0) { errno = (int)-r; return result(-1); }
        return result(0);
    }
#endif
    fprintf(stderr, "attack: unknown technique %s\n", t);
    return 2;
}
