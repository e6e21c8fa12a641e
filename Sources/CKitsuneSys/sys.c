// Fixed-arity syscall wrappers for the Embedded Swift enforcer. See ckitsune.h.
#define _GNU_SOURCE
#include "ckitsune.h"
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/signalfd.h>

static int g_argc;
static char **g_argv;
static char **g_envp;
#ifdef __GLIBC__
// glibc calls constructors with main's arguments.
__attribute__((constructor)) static void ks_capture(int argc, char **argv, char **envp) {
    g_argc = argc; g_argv = argv; g_envp = envp;
}
#else
// musl calls constructors with none: the static musl link (scripts/build-musl) wraps main instead
// (-Wl,--wrap=main), so the arguments are captured before the Swift entry point runs.
int __real_main(int argc, char **argv);
int __wrap_main(int argc, char **argv, char **envp) {
    g_argc = argc; g_argv = argv; g_envp = envp;
    return __real_main(argc, argv);
}
#endif
int ks_argc(void) { return g_argc; }
char **ks_argv(void) { return g_argv; }
char **ks_envp(void) { return g_envp; }

#define RET(x) do { long _r = (long)(x); return _r < 0 ? -errno : (int)_r; } while (0)

/* ---------------- files ---------------- */
int ks_open(const char *p, int flags, int mode) { RET(open(p, flags, mode)); }
int ks_openat(int d, const char *p, int flags, int mode) { RET(openat(d, p, flags, mode)); }
int ks_close(int fd) { RET(close(fd)); }
long ks_read(int fd, void *b, size_t n) { ssize_t r; do { r = read(fd, b, n); } while (r < 0 && errno == EINTR); return r < 0 ? -errno : r; }
long ks_pread(int fd, void *b, size_t n, long off) { ssize_t r = pread(fd, b, n, off); return r < 0 ? -errno : r; }
long ks_write(int fd, const void *b, size_t n) { ssize_t r = write(fd, b, n); return r < 0 ? -errno : r; }
int ks_write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t r = write(fd, p, n);
        if (r < 0) { if (errno == EINTR) continue; return -errno; }
        p += r; n -= (size_t)r;
    }
    return 0;
}
long ks_readlink(const char *p, char *b, size_t n) { ssize_t r = readlink(p, b, n); return r < 0 ? -errno : r; }
int ks_dup2(int a, int b) { RET(dup2(a, b)); }
int ks_isatty(int fd) { return isatty(fd); }
int ks_access_x(const char *p) { RET(access(p, X_OK)); }

static void fill_stat(const struct stat *st, ks_stat_t *o) {
    o->dev = st->st_dev; o->ino = st->st_ino; o->size = (uint64_t)st->st_size;
    o->mtime_sec = st->st_mtim.tv_sec; o->mtime_nsec = st->st_mtim.tv_nsec;
    o->ctime_sec = st->st_ctim.tv_sec; o->ctime_nsec = st->st_ctim.tv_nsec;
    o->mode = st->st_mode;
    o->kind = S_ISREG(st->st_mode) ? 1 : S_ISDIR(st->st_mode) ? 2 : 3;
}
int ks_fstat(int fd, ks_stat_t *o) { struct stat st; if (fstat(fd, &st) < 0) return -errno; fill_stat(&st, o); return 0; }
int ks_stat_path(const char *p, ks_stat_t *o) {
    struct stat st; if (stat(p, &st) < 0) { memset(o, 0, sizeof *o); return -errno; }
    fill_stat(&st, o); return 0;
}
int ks_o_rdonly(void) { return O_RDONLY; }
int ks_o_path(void) { return O_PATH; }
int ks_o_cloexec(void) { return O_CLOEXEC; }
int ks_o_nofollow(void) { return O_NOFOLLOW; }
int ks_o_directory(void) { return O_DIRECTORY; }
int ks_o_wronly_append_create(void) { return O_WRONLY | O_APPEND | O_CREAT; }
int ks_o_wronly_trunc_create(void) { return O_WRONLY | O_TRUNC | O_CREAT; }

/* ---------------- processes ---------------- */
int ks_fork(void) { RET(fork()); }
#ifdef __GLIBC__
void ks_release_free_memory(void) { (void)malloc_trim(0); }
#else
void ks_release_free_memory(void) {}   // musl's malloc returns free pages to the kernel itself
#endif
int ks_execve(const char *p, char *const a[], char *const e[]) { RET(execve(p, a, e)); }
void ks_exit(int code) { _exit(code); }
int ks_getpid(void) { return getpid(); }
int ks_getppid(void) { return getppid(); }
int ks_getpgrp(void) { return getpgrp(); }
int ks_setpgid(int pid, int pgid) { RET(setpgid(pid, pgid)); }
int ks_tcgetpgrp(int fd) { RET(tcgetpgrp(fd)); }
int ks_tcsetpgrp(int fd, int pg) { RET(tcsetpgrp(fd, pg)); }
int ks_kill(int pid, int sig) { RET(kill(pid, sig)); }
int ks_waitpid(int pid, int *st, int nohang) { pid_t r; do { r = waitpid(pid, st, nohang ? WNOHANG : 0); } while (r < 0 && errno == EINTR); return r < 0 ? -errno : r; }
int ks_wifexited(int s) { return WIFEXITED(s); }
int ks_wexitstatus(int s) { return WEXITSTATUS(s); }
int ks_wifsignaled(int s) { return WIFSIGNALED(s); }
int ks_wtermsig(int s) { return WTERMSIG(s); }
void ks_die_by_signal(int sig) {
    signal(sig, SIG_DFL);
    sigset_t set; sigemptyset(&set); sigaddset(&set, sig); sigprocmask(SIG_UNBLOCK, &set, NULL);
    prctl(PR_SET_DUMPABLE, 0);           /* no core dump of the supervisor */
    kill(getpid(), sig);
    _exit(128 + sig);
}
int ks_prctl(int o, unsigned long a, unsigned long b, unsigned long c, unsigned long d) { RET(prctl(o, a, b, c, d)); }
int ks_set_no_new_privs(void) { RET(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)); }
int ks_set_dumpable(int on) { RET(prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0)); }
int ks_set_child_subreaper(void) { RET(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)); }
int ks_set_pdeathsig(int sig) { RET(prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)); }

long ks_read_mem(int pid, uint64_t addr, void *buf, size_t n) {
    struct iovec local = { buf, n }, remote = { (void *)(uintptr_t)addr, n };
    ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (r >= 0) return r;
    if (errno != ENOSYS && errno != EPERM) return -errno;
    /* Fallback: /proc/PID/mem (same permission check, other mechanism). */
    char path[64]; snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    r = pread(fd, buf, n, (off_t)addr);
    int e = errno; close(fd);
    return r < 0 ? -e : r;
}

/* ---------------- signals ---------------- */
static sigset_t g_saved_mask;
int ks_signalfd_all(void) {
    sigset_t all; sigfillset(&all);
    sigdelset(&all, SIGSEGV); sigdelset(&all, SIGBUS); sigdelset(&all, SIGILL); sigdelset(&all, SIGFPE);
    if (sigprocmask(SIG_BLOCK, &all, &g_saved_mask) < 0) return -errno;
    RET(signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK));
}
int ks_restore_sigmask(void) { RET(sigprocmask(SIG_SETMASK, &g_saved_mask, NULL)); }
int ks_signalfd_read(int fd) {
    struct signalfd_siginfo si;
    ssize_t r = read(fd, &si, sizeof si);
    if (r < 0) return errno == EAGAIN ? 0 : -errno;
    return r == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
}
int ks_sigchld(void) { return SIGCHLD; }
int ks_sigkill(void) { return SIGKILL; }
int ks_sigttou(void) { return SIGTTOU; }
int ks_ignore_signal(int sig) { return signal(sig, SIG_IGN) == SIG_ERR ? -errno : 0; }
int ks_default_signal(int sig) { return signal(sig, SIG_DFL) == SIG_ERR ? -errno : 0; }

/* ---------------- poll ---------------- */
int ks_poll(const int *fds, int n, short *out, int timeout) {
    struct pollfd p[4];
    if (n > 4) n = 4;
    for (int i = 0; i < n; i++) { p[i].fd = fds[i]; p[i].events = POLLIN; p[i].revents = 0; }
    int r;
    do { r = poll(p, (nfds_t)n, timeout); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    for (int i = 0; i < n; i++)
        out[i] = (short)(((p[i].revents & POLLIN) ? 1 : 0) | ((p[i].revents & (POLLHUP | POLLERR | POLLNVAL)) ? 2 : 0));
    return r;
}

/* ---------------- sockets ---------------- */
int ks_socketpair(int fds[2]) { RET(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)); }
int ks_pipe(int fds[2]) { RET(pipe2(fds, O_CLOEXEC)); }
int ks_send_fd(int sock, int fd) {
    char byte = 'K';
    struct iovec iov = { &byte, 1 };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov; msg.msg_iovlen = 1;
    msg.msg_control = u.buf; msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t r; do { r = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}
int ks_recv_fd(int sock) {
    char byte;
    struct iovec iov = { &byte, 1 };
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov; msg.msg_iovlen = 1;
    msg.msg_control = u.buf; msg.msg_controllen = sizeof u.buf;
    ssize_t r; do { r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    if (r == 0) return -EPIPE;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) return -EPROTO;
    int fd; memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/* ---------------- time ---------------- */
int64_t ks_realtime_ns(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }
int64_t ks_monotonic_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

int ks_uname_release(char *buf, size_t n) {
    struct utsname u; if (uname(&u) < 0) return -errno;
    strncpy(buf, u.release, n - 1); buf[n - 1] = 0; return 0;
}
int ks_errno_eacces(void) { return EACCES; }
int ks_errno_eperm(void) { return EPERM; }
int ks_errno_enoent(void) { return ENOENT; }
const char *ks_strerror(int e) { return strerror(e); }

volatile uint64_t *ks_shared_words(void) {
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : (volatile uint64_t *)p;
}

long ks_list_dir(const char *path, char *buf, size_t n) {
    DIR *d = opendir(path);
    if (!d) return -errno;
    size_t used = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t len = strlen(e->d_name) + 1;
        if (used + len > n) continue;
        memcpy(buf + used, e->d_name, len);
        used += len;
    }
    closedir(d);
    return (long)used;
}
