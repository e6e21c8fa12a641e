// Sockets, inotify, randomness and the shared request-id page for the enforcer's Lambda sidecar
// (Runtime API relay, honeypot file watch, event shipping). See ckitsune.h.
#define _GNU_SOURCE
#include "ckitsune.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define RET(x) do { long _r = (long)(x); return _r < 0 ? -errno : (int)_r; } while (0)

static void nodelay(int fd) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }

int ks_tcp_listen_loopback(int *port_out) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) { int e = errno; close(fd); return -e; }
    *port_out = ntohs(a.sin_port);
    return fd;
}

int ks_tcp_accept(int fd) {
    int c;
    do { c = accept4(fd, NULL, NULL, SOCK_CLOEXEC); } while (c < 0 && errno == EINTR);
    if (c < 0) return -errno;
    nodelay(c);
    return c;
}

int ks_tcp_connect(const uint8_t ip[4], int port, int timeout_ms) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    memcpy(&a.sin_addr, ip, 4);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (errno != EINPROGRESS) { int e = errno; close(fd); return -e; }
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int r;
        do { r = poll(&p, 1, timeout_ms); } while (r < 0 && errno == EINTR);
        if (r == 0) { close(fd); return -ETIMEDOUT; }
        int err = 0; socklen_t el = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (r < 0 || err) { close(fd); return -(err ? err : ECONNREFUSED); }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    nodelay(fd);
    return fd;
}

int ks_set_io_timeout(int fd, int timeout_ms) {
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) return -errno;
    RET(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
}

int ks_await_drained(int fd, int timeout_ms) {
    for (int waited = 0;; waited++) {
        int n = 0;
        if (ioctl(fd, FIONREAD, &n) < 0) return -errno;
        if (n == 0 || waited >= timeout_ms * 10) return n;
        struct timespec step = { .tv_sec = 0, .tv_nsec = 100000 };
        nanosleep(&step, NULL);
    }
}

int ks_set_nonblock(int fd) { RET(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)); }

long ks_udp_exchange(const uint8_t ip[4], int port, const void *query, size_t qn, void *answer, size_t an, int timeout_ms) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    memcpy(&a.sin_addr, ip, 4);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 || send(fd, query, qn, 0) < 0) { int e = errno; close(fd); return -e; }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int r;
    do { r = poll(&p, 1, timeout_ms); } while (r < 0 && errno == EINTR);
    if (r <= 0) { close(fd); return r == 0 ? -ETIMEDOUT : -errno; }
    ssize_t n = recv(fd, answer, an, 0);
    int e = errno;
    close(fd);
    return n < 0 ? -e : n;
}

int ks_poll_many(const int *fds, const short *events, int n, short *revents, int timeout_ms) {
    struct pollfd p[KS_POLL_MAX];
    if (n > KS_POLL_MAX) n = KS_POLL_MAX;
    for (int i = 0; i < n; i++) { p[i].fd = fds[i]; p[i].events = events[i]; p[i].revents = 0; }
    int r;
    do { r = poll(p, (nfds_t)n, timeout_ms); } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    for (int i = 0; i < n; i++) {
        short o = 0;
        if (p[i].revents & POLLIN) o |= 1;
        if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL)) o |= 2;
        if (p[i].revents & POLLOUT) o |= 4;
        revents[i] = o;
    }
    return r;
}

int ks_inotify_init(void) { RET(inotify_init1(IN_CLOEXEC | IN_NONBLOCK)); }
int ks_inotify_watch(int fd, const char *path) {
    RET(inotify_add_watch(fd, path, IN_OPEN | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW));
}
long ks_inotify_next(const void *buf, size_t n, size_t offset, int *wd, uint32_t *mask) {
    if (offset + sizeof(struct inotify_event) > n) return -1;
    const struct inotify_event *e = (const struct inotify_event *)((const char *)buf + offset);
    *wd = e->wd; *mask = e->mask;
    return (long)(offset + sizeof(struct inotify_event) + e->len);
}
uint32_t ks_in_open(void) { return IN_OPEN; }
uint32_t ks_in_modify(void) { return IN_MODIFY; }
uint32_t ks_in_attrib(void) { return IN_ATTRIB; }
uint32_t ks_in_gone(void) { return IN_DELETE_SELF | IN_MOVE_SELF; }
uint32_t ks_in_ignored(void) { return IN_IGNORED; }

int ks_getrandom(void *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t r = getrandom((char *)buf + done, n - done, 0);
        if (r < 0) { if (errno == EINTR) continue; return -errno; }
        done += (size_t)r;
    }
    return 0;
}

#ifndef __GLIBC__
// The Embedded Swift runtime seeds hashing through arc4random_buf, which musl 1.2.3 lacks.
void arc4random_buf(void *buf, size_t n) { if (ks_getrandom(buf, n) != 0) abort(); }
#endif

int ks_mkdir(const char *path, int mode) { RET(mkdir(path, (mode_t)mode)); }
int ks_o_wronly_excl_create(void) { return O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW; }

/* The shared page: word 0 is a sequence number (odd while written), word 1 a length, then bytes. */
void ks_shared_put(volatile uint64_t *page, const void *data, size_t n) {
    if (n > 256) n = 256;
    uint64_t seq = __atomic_load_n(&page[0], __ATOMIC_RELAXED);
    __atomic_store_n(&page[0], seq + 1, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    memcpy((void *)&page[2], data, n);
    __atomic_store_n(&page[1], (uint64_t)n, __ATOMIC_RELAXED);
    __atomic_store_n(&page[0], seq + 2, __ATOMIC_RELEASE);
}

uint64_t ks_shared_next(volatile uint64_t *word) {
    return __atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
}

long ks_shared_get(volatile uint64_t *page, void *out, size_t cap) {
    for (int tries = 0; tries < 100; tries++) {
        uint64_t s1 = __atomic_load_n(&page[0], __ATOMIC_ACQUIRE);
        if (s1 & 1) continue;
        uint64_t n = __atomic_load_n(&page[1], __ATOMIC_RELAXED);
        if (n > cap) n = cap;
        memcpy(out, (const void *)&page[2], n);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&page[0], __ATOMIC_RELAXED) == s1) return (long)n;
    }
    return 0;
}
