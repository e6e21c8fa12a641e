/// CKitsuneSys — fixed-arity wrappers over the raw Linux syscalls the enforcer needs.
/// Embedded Swift cannot call variadic C functions (syscall, ioctl, prctl, open, fcntl), so every
/// call goes through one of these. Unless stated otherwise a wrapper returns >= 0 on success and
/// -errno on failure.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <linux/filter.h>

/* ---- process arguments (captured by a constructor before main) ---- */
int ks_argc(void);
char **ks_argv(void);
char **ks_envp(void);

/* ---- files ---- */
int ks_open(const char *path, int flags, int mode);
int ks_openat(int dirfd, const char *path, int flags, int mode);
int ks_close(int fd);
long ks_read(int fd, void *buf, size_t n);
long ks_pread(int fd, void *buf, size_t n, long off);
long ks_write(int fd, const void *buf, size_t n);
int ks_write_all(int fd, const void *buf, size_t n);
long ks_readlink(const char *path, char *buf, size_t n);
int ks_dup2(int from, int to);
int ks_isatty(int fd);
int ks_access_x(const char *path);
/// The entry names of directory `path` (without . and ..), each followed by a NUL, in `buf`.
/// Returns the bytes used, or -errno; names that do not fit are left out.
long ks_list_dir(const char *path, char *buf, size_t n);

/// File facts from fstat/stat. kind: 1 regular, 2 directory, 3 other, 0 missing.
typedef struct ks_stat {
    uint64_t dev, ino, size;
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
    uint32_t mode;
    int kind;
} ks_stat_t;
int ks_fstat(int fd, ks_stat_t *out);
int ks_stat_path(const char *path, ks_stat_t *out);
/* O_* flags */
int ks_o_rdonly(void); int ks_o_path(void); int ks_o_cloexec(void); int ks_o_wronly_append_create(void);
int ks_o_nofollow(void); int ks_o_directory(void); int ks_o_wronly_trunc_create(void);

/* ---- processes ---- */
int ks_fork(void);
int ks_execve(const char *path, char *const argv[], char *const envp[]);
void ks_exit(int code) __attribute__((noreturn));
int ks_getpid(void);
int ks_getppid(void);
int ks_getpgrp(void);
int ks_setpgid(int pid, int pgid);
int ks_tcgetpgrp(int fd);
int ks_tcsetpgrp(int fd, int pgrp);
int ks_kill(int pid, int sig);
int ks_waitpid(int pid, int *status, int nohang);
int ks_wifexited(int status); int ks_wexitstatus(int status);
int ks_wifsignaled(int status); int ks_wtermsig(int status);
/// Re-raise `sig` on ourselves with its default action (to die the way the child died).
void ks_die_by_signal(int sig) __attribute__((noreturn));
int ks_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int ks_set_no_new_privs(void);
int ks_set_dumpable(int on);
int ks_set_child_subreaper(void);
int ks_set_pdeathsig(int sig);
long ks_read_mem(int pid, uint64_t addr, void *buf, size_t n);
/// Give the heap's free pages back to the kernel (malloc_trim(0)): after a fork, pages neither
/// process keeps are then neither resident nor copied on write.
void ks_release_free_memory(void);

/* ---- signals ---- */
/// Block every catchable signal; saves the previous mask for ks_restore_sigmask; returns a signalfd.
int ks_signalfd_all(void);
int ks_restore_sigmask(void);
/// Read one signal from a signalfd: returns the signal number, 0 if none, -errno.
int ks_signalfd_read(int fd);
int ks_sigchld(void); int ks_sigkill(void); int ks_sigttou(void);
int ks_ignore_signal(int sig);
int ks_default_signal(int sig);

/* ---- poll ---- */
/// Poll up to 4 fds for input; revents bits written to out[i] (1 = in, 2 = hup/err). Returns count or -errno.
int ks_poll(const int *fds, int n, short *out, int timeout_ms);

/* ---- sockets: passing the listener fd ---- */
int ks_socketpair(int fds[2]);
int ks_pipe(int fds[2]);
int ks_send_fd(int sock, int fd);
int ks_recv_fd(int sock);

/* ---- time ---- */
int64_t ks_realtime_ns(void);
int64_t ks_monotonic_ns(void);

/* ---- Landlock ---- */
int ks_landlock_abi(void);
/// Create a rule set handling `handled_fs` (and `scoped` from ABI 6). Returns an fd.
int ks_landlock_create(uint64_t handled_fs, uint64_t scoped, int abi);
int ks_landlock_allow(int ruleset, int parent_fd, uint64_t access);
int ks_landlock_restrict(int ruleset);
uint64_t ks_ll_access_execute(void);
uint64_t ks_ll_access_write_file(void);
uint64_t ks_ll_scope_signal(void);

/* ---- seccomp ---- */
/// Whether the kernel knows the SECCOMP_RET_USER_NOTIF action.
int ks_seccomp_unotify_available(void);
/// Install a filter; with `listener` set, returns the new notification fd.
int ks_seccomp_install(const struct sock_filter *prog, unsigned short len, int listener);
uint32_t ks_ret_allow(void); uint32_t ks_ret_notify(void); uint32_t ks_ret_errno(int err);
uint32_t ks_ret_kill_process(void);

typedef struct ks_notif {
    uint64_t id;
    uint32_t pid;
    int32_t nr;
    uint32_t arch;
    uint64_t args[6];
} ks_notif_t;
/// Receive one notification (blocking). -ENOENT when the target died before it was read.
int ks_notif_recv(int fd, ks_notif_t *out);
/// Answer: continue the syscall (`deny_errno` == 0) or fail it with -deny_errno.
int ks_notif_respond(int fd, uint64_t id, int deny_errno);
/// Whether the notification is still valid (the target is still blocked in that syscall).
int ks_notif_id_valid(int fd, uint64_t id);
/// Synchronous wake-ups on a listener (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux >= 6.6): a notifying
/// task and the supervisor hand the CPU over to each other instead of waking one another up on
/// other CPUs. 0, or -errno (-EINVAL / -ENOTTY on older kernels).
int ks_notif_sync_wakeup(int fd);

/* ---- shared memory between the supervisor and its audit standby ---- */
/// A zeroed page shared with processes forked after this call; NULL on failure.
volatile uint64_t *ks_shared_words(void);

/* ---- sidecar: loopback relay, event shipping, honeypot file watch (net.c) ---- */
#define KS_POLL_MAX 64
/// Listen on 127.0.0.1 with an ephemeral port (written to *port_out). Returns the fd (close-on-exec).
int ks_tcp_listen_loopback(int *port_out);
/// Accept one connection (close-on-exec, TCP_NODELAY).
int ks_tcp_accept(int fd);
/// Connect to an IPv4 address within `timeout_ms`; the returned fd is blocking, TCP_NODELAY.
int ks_tcp_connect(const uint8_t ip[4], int port, int timeout_ms);
int ks_set_io_timeout(int fd, int timeout_ms);
int ks_set_nonblock(int fd);
/// Wait (at most `timeout_ms`, in 100 µs steps) until nothing is left unread on socket `fd`
/// (FIONREAD). Returns 0 when drained, else the bytes still unread (or -errno).
int ks_await_drained(int fd, int timeout_ms);
/// Send one UDP datagram and wait for one answer (DNS). Returns the answer length or -errno.
long ks_udp_exchange(const uint8_t ip[4], int port, const void *query, size_t qn, void *answer, size_t an, int timeout_ms);
/// poll(2) on up to KS_POLL_MAX fds; `events` are POLLIN/POLLOUT masks (1 = in, 4 = out), revents bits
/// 1 = in, 2 = hup/err, 4 = out.
int ks_poll_many(const int *fds, const short *events, int n, short *revents, int timeout_ms);
int ks_inotify_init(void);
/// Watch a file for open, modify, attribute change, deletion and rename (not following symlinks).
int ks_inotify_watch(int fd, const char *path);
/// Decode the inotify event at `offset` of a read buffer; returns the next offset, or -1 at the end.
long ks_inotify_next(const void *buf, size_t n, size_t offset, int *wd, uint32_t *mask);
uint32_t ks_in_open(void); uint32_t ks_in_modify(void); uint32_t ks_in_attrib(void);
uint32_t ks_in_gone(void); uint32_t ks_in_ignored(void);
int ks_getrandom(void *buf, size_t n);
int ks_mkdir(const char *path, int mode);
int ks_o_wronly_excl_create(void);
/// A consistent copy of a value published on a shared page (seqlock; at most 256 bytes).
void ks_shared_put(volatile uint64_t *page, const void *data, size_t n);
long ks_shared_get(volatile uint64_t *page, void *out, size_t cap);
/// Atomically increment a shared counter; returns its value before the increment.
uint64_t ks_shared_next(volatile uint64_t *word);

/* ---- misc ---- */
int ks_uname_release(char *buf, size_t n);
int ks_errno_eacces(void); int ks_errno_eperm(void); int ks_errno_enoent(void);
const char *ks_strerror(int err);
