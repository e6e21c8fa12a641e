// Landlock, seccomp and seccomp user notification. Constants are defined here when the build
// host's kernel headers are older than the kernel the enforcer runs on.
#define _GNU_SOURCE
#include "ckitsune.h"
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#define KS_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define KS_LANDLOCK_RULE_PATH_BENEATH 1
#define KS_LANDLOCK_ACCESS_FS_EXECUTE (1ULL << 0)
#define KS_LANDLOCK_ACCESS_FS_WRITE_FILE (1ULL << 1)
#define KS_LANDLOCK_SCOPE_SIGNAL (1ULL << 1)

struct ks_ruleset_attr { uint64_t handled_access_fs, handled_access_net, scoped; };
struct ks_path_beneath { uint64_t allowed_access; int32_t parent_fd; } __attribute__((packed));

/* ---------------- Landlock ---------------- */
int ks_landlock_abi(void) {
    long r = syscall(__NR_landlock_create_ruleset, NULL, 0, KS_LANDLOCK_CREATE_RULESET_VERSION);
    return r < 0 ? -errno : (int)r;
}
int ks_landlock_create(uint64_t handled_fs, uint64_t scoped, int abi) {
    struct ks_ruleset_attr attr = { handled_fs, 0, scoped };
    size_t size = abi >= 6 ? sizeof attr : abi >= 4 ? offsetof(struct ks_ruleset_attr, scoped)
                                                   : offsetof(struct ks_ruleset_attr, handled_access_net);
    if (abi < 6) attr.scoped = 0;
    long r = syscall(__NR_landlock_create_ruleset, &attr, size, 0);
    return r < 0 ? -errno : (int)r;
}
int ks_landlock_allow(int ruleset, int parent_fd, uint64_t access) {
    struct ks_path_beneath pb = { access, parent_fd };
    long r = syscall(__NR_landlock_add_rule, ruleset, KS_LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    return r < 0 ? -errno : 0;
}
int ks_landlock_restrict(int ruleset) {
    long r = syscall(__NR_landlock_restrict_self, ruleset, 0);
    return r < 0 ? -errno : 0;
}
uint64_t ks_ll_access_execute(void) { return KS_LANDLOCK_ACCESS_FS_EXECUTE; }
uint64_t ks_ll_access_write_file(void) { return KS_LANDLOCK_ACCESS_FS_WRITE_FILE; }
uint64_t ks_ll_scope_signal(void) { return KS_LANDLOCK_SCOPE_SIGNAL; }

/* ---------------- seccomp ---------------- */
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif
struct ks_seccomp_data { int nr; uint32_t arch; uint64_t instruction_pointer; uint64_t args[6]; };
struct ks_seccomp_notif { uint64_t id; uint32_t pid; uint32_t flags; struct ks_seccomp_data data; };
struct ks_seccomp_notif_resp { uint64_t id; int64_t val; int32_t error; uint32_t flags; };
#define KS_IOC_MAGIC '!'
#define KS_IOCTL_NOTIF_RECV _IOWR(KS_IOC_MAGIC, 0, struct ks_seccomp_notif)
#define KS_IOCTL_NOTIF_SEND _IOWR(KS_IOC_MAGIC, 1, struct ks_seccomp_notif_resp)
#define KS_IOCTL_NOTIF_ID_VALID _IOW(KS_IOC_MAGIC, 2, uint64_t)
#define KS_IOCTL_NOTIF_ID_VALID_OLD _IOR(KS_IOC_MAGIC, 2, uint64_t)
#define KS_IOCTL_NOTIF_SET_FLAGS _IOW(KS_IOC_MAGIC, 4, uint64_t)
#define KS_USER_NOTIF_FD_SYNC_WAKE_UP 1UL

int ks_seccomp_unotify_available(void) {
    uint32_t action = SECCOMP_RET_USER_NOTIF;
    long r = syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
    return r == 0 ? 1 : 0;
}
int ks_seccomp_install(const struct sock_filter *prog, unsigned short len, int listener) {
    struct sock_fprog fprog = { len, (struct sock_filter *)prog };
    unsigned long flags = listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long r = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
    return r < 0 ? -errno : (int)r;
}
uint32_t ks_ret_allow(void) { return SECCOMP_RET_ALLOW; }
uint32_t ks_ret_notify(void) { return SECCOMP_RET_USER_NOTIF; }
uint32_t ks_ret_errno(int err) { return SECCOMP_RET_ERRNO | ((uint32_t)err & SECCOMP_RET_DATA); }
uint32_t ks_ret_kill_process(void) { return SECCOMP_RET_KILL_PROCESS; }

int ks_notif_recv(int fd, ks_notif_t *out) {
    struct ks_seccomp_notif n;
    memset(&n, 0, sizeof n);
    int r;
    do { r = ioctl(fd, KS_IOCTL_NOTIF_RECV, &n); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    out->id = n.id; out->pid = n.pid; out->nr = n.data.nr; out->arch = n.data.arch;
    for (int i = 0; i < 6; i++) out->args[i] = n.data.args[i];
    return 0;
}
int ks_notif_respond(int fd, uint64_t id, int deny_errno) {
    struct ks_seccomp_notif_resp resp = { id, 0, 0, 0 };
    if (deny_errno) resp.error = -deny_errno; else resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    int r;
    do { r = ioctl(fd, KS_IOCTL_NOTIF_SEND, &resp); } while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}
int ks_notif_sync_wakeup(int fd) {
    return ioctl(fd, KS_IOCTL_NOTIF_SET_FLAGS, KS_USER_NOTIF_FD_SYNC_WAKE_UP) < 0 ? -errno : 0;
}
int ks_notif_id_valid(int fd, uint64_t id) {
    int r = ioctl(fd, KS_IOCTL_NOTIF_ID_VALID, &id);
    if (r < 0 && errno == EINVAL) r = ioctl(fd, KS_IOCTL_NOTIF_ID_VALID_OLD, &id);
    return r == 0 ? 1 : 0;
}
