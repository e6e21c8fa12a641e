// One HTTPS POST over OpenSSL for kitsune-ship. See ckitsunetls.h.
// The socket stays non-blocking from connect to close: every wait is a poll(2) bounded by what is
// left of the caller's deadline, so connect, handshake, send and receive together never exceed it.
#define _GNU_SOURCE
#include "ckitsunetls.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define HEAD_MAX 16384

struct call {
    char *err;
    size_t err_len;
    int64_t deadline_ns;
    char *answer;            /* where a non-2xx answer's head and first body bytes go (or NULL) */
    size_t answer_cap;
    size_t *answer_len;
};

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int fail(struct call *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct call *c, int code, const char *fmt, ...) {
    if (c->err && c->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->err_len, fmt, ap);
        va_end(ap);
        for (char *p = c->err; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';   /* one line */
    }
    return code;
}

/// Wait until `fd` is readable (want_write 0) or writable (1) or the deadline passes.
/// 1 ready, 0 deadline passed, -errno.
static int wait_fd(struct call *c, int fd, int want_write) {
    for (;;) {
        int64_t left = c->deadline_ns - now_ns();
        if (left <= 0) return 0;
        struct pollfd p = { .fd = fd, .events = want_write ? POLLOUT : POLLIN };
        int ms = (int)((left + 999999) / 1000000);
        int r = poll(&p, 1, ms);
        if (r > 0) return 1;                 /* ready, or HUP/ERR: the next call reports the error */
        if (r < 0 && errno != EINTR) return -errno;
    }
}

static int tcp_connect(struct call *c, const uint8_t ip[4], int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail(c, KS_TLS_E_CONNECT, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    memcpy(&a.sin_addr, ip, 4);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        if (errno != EINPROGRESS) { int e = errno; close(fd); return fail(c, KS_TLS_E_CONNECT, "connect: %s", strerror(e)); }
        int r = wait_fd(c, fd, 1);
        if (r == 0) { close(fd); return fail(c, KS_TLS_E_TIMEOUT, "connecting to %u.%u.%u.%u:%d", ip[0], ip[1], ip[2], ip[3], port); }
        int e = r < 0 ? -r : 0;
        socklen_t el = sizeof e;
        if (r > 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) { close(fd); return fail(c, KS_TLS_E_CONNECT, "connect: %s", strerror(e)); }
    }
    return fd;
}

/// The first error on OpenSSL's queue as text (its reason, with the packed code).
static void openssl_reason(char *out, size_t n) {
    unsigned long e = ERR_get_error();
    if (!e) { snprintf(out, n, "unknown error"); return; }
    const char *reason = ERR_reason_error_string(e);
    if (reason) snprintf(out, n, "%s (error:%08lX)", reason, e);
    else snprintf(out, n, "error:%08lX", e);
    ERR_clear_error();
}

enum phase { HANDSHAKE, SEND, RECEIVE };
/* What a timeout in each phase was waiting for, and the prefix of its other errors. */
static const char *const waiting_for[] = { "TLS handshake", "sending the request", "waiting for the answer" };
static const char *const failed[] = { "TLS: handshake failed", "send", "receive" };

/// After an SSL_* call returned `ret` <= 0: wait and retry (1), or fail with a filled `err` (< 0).
static int tls_step(struct call *c, SSL *ssl, int fd, int ret, enum phase ph) {
    int saved = errno;
    int e = SSL_get_error(ssl, ret);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        int r = wait_fd(c, fd, e == SSL_ERROR_WANT_WRITE);
        if (r > 0) return 1;
        if (r == 0) return fail(c, KS_TLS_E_TIMEOUT, "%s", waiting_for[ph]);
        return fail(c, KS_TLS_E_IO, "%s: %s", failed[ph], strerror(-r));
    }
    int code = ph == HANDSHAKE ? KS_TLS_E_TLS : KS_TLS_E_IO;
    if (e == SSL_ERROR_SSL) {
        long v = SSL_get_verify_result(ssl);
        if (ph == HANDSHAKE && v != X509_V_OK) {
            ERR_clear_error();
            return fail(c, KS_TLS_E_TLS, "TLS: certificate verify failed: %s", X509_verify_cert_error_string(v));
        }
        char why[256];
        openssl_reason(why, sizeof why);
        return fail(c, code, "%s: %s", failed[ph], why);
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && saved == 0))
        return fail(c, code, "%s: connection closed by the server", failed[ph]);
    if (e == SSL_ERROR_SYSCALL) return fail(c, code, "%s: %s", failed[ph], strerror(saved));
    return fail(c, code, "%s: SSL error %d", failed[ph], e);
}

static int send_all(struct call *c, SSL *ssl, int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        size_t chunk = n > 65536 ? 65536 : n, done = 0;
        ERR_clear_error();
        errno = 0;
        int ret = SSL_write_ex(ssl, p, chunk, &done);
        if (ret > 0) { p += done; n -= done; continue; }
        int r = tls_step(c, ssl, fd, ret, SEND);
        if (r < 0) return r;
    }
    return 0;
}

/// Parse "HTTP/1.x NNN ..." at the start of `line` (length n, without CRLF); -1 when malformed.
static int status_of(const char *line, size_t n) {
    if (n < 12 || memcmp(line, "HTTP/", 5) != 0) return -1;
    const char *sp = memchr(line, ' ', n);
    if (!sp || (size_t)(sp - line) + 4 > n) return -1;
    int s = 0;
    for (int i = 1; i <= 3; i++) {
        if (sp[i] < '0' || sp[i] > '9') return -1;
        s = s * 10 + (sp[i] - '0');
    }
    if ((size_t)(sp - line) + 4 < n && sp[4] != ' ') return -1;
    return s < 100 ? -1 : s;
}

/// A non-2xx answer: read on (best effort, within the deadline) until its head and the first
/// KS_TLS_ANSWER_BODY bytes of its body are in, then copy them out for the caller.
static void keep_answer(struct call *c, SSL *ssl, int fd, char *buf, size_t have, size_t cap) {
    if (!c->answer || !c->answer_cap) return;
    for (;;) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (end && have - (size_t)(end + 4 - buf) >= KS_TLS_ANSWER_BODY) break;
        if (have == cap) break;
        size_t got = 0;
        ERR_clear_error();
        errno = 0;
        int ret = SSL_read_ex(ssl, buf + have, cap - have, &got);
        if (ret > 0) { have += got; continue; }
        int e = SSL_get_error(ssl, ret);
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0)) break;
        if (tls_step(c, ssl, fd, ret, RECEIVE) < 0) { if (c->err && c->err_len) c->err[0] = 0; break; }
    }
    char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (end && have > (size_t)(end + 4 - buf) + KS_TLS_ANSWER_BODY) have = (size_t)(end + 4 - buf) + KS_TLS_ANSWER_BODY;
    size_t n = have < c->answer_cap ? have : c->answer_cap;
    memcpy(c->answer, buf, n);
    if (c->answer_len) *c->answer_len = n;
}

/// Read answers until the final status line (1xx heads are skipped whole).
static int read_status(struct call *c, SSL *ssl, int fd) {
    char buf[HEAD_MAX];
    size_t have = 0;
    for (;;) {
        char *eol = memchr(buf, '\n', have);
        if (eol) {
            size_t len = (size_t)(eol - buf);
            if (len > 0 && buf[len - 1] == '\r') len--;
            int s = status_of(buf, len);
            if (s < 0) return fail(c, KS_TLS_E_HTTP, "not an HTTP answer (malformed status line)");
            if (s >= 200 && s < 300) return s;
            if (s >= 300) { keep_answer(c, ssl, fd, buf, have, sizeof buf); return s; }
            char *end = memmem(buf, have, "\r\n\r\n", 4);        /* 1xx: drop its head, read on */
            if (end) {
                size_t used = (size_t)(end - buf) + 4;
                memmove(buf, buf + used, have - used);
                have -= used;
                continue;
            }
        }
        if (have == sizeof buf) return fail(c, KS_TLS_E_HTTP, "answer head longer than %d bytes", HEAD_MAX);
        size_t got = 0;
        ERR_clear_error();
        errno = 0;
        int ret = SSL_read_ex(ssl, buf + have, sizeof buf - have, &got);
        if (ret > 0) { have += got; continue; }
        int e = SSL_get_error(ssl, ret);
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
            return fail(c, KS_TLS_E_HTTP, "connection closed before an HTTP answer");
        int r = tls_step(c, ssl, fd, ret, RECEIVE);
        if (r < 0) return r;
    }
}

static int is_ipv4_literal(const char *host) {
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1;
}

int ks_tls_post(const char *host, const uint8_t ip[4], int port, const char *ca_file,
                const void *head, size_t head_len, const void *body, size_t body_len,
                int timeout_ms, char *err, size_t err_len, char *answer, size_t answer_cap, size_t *answer_len) {
    struct call c = { .err = err, .err_len = err_len,
                      .deadline_ns = now_ns() + (int64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000,
                      .answer = answer, .answer_cap = answer_cap, .answer_len = answer_len };
    if (answer_len) *answer_len = 0;
    if (err && err_len) err[0] = 0;
    signal(SIGPIPE, SIG_IGN);
    /* No openssl.cnf: nothing from the environment (OPENSSL_CONF) may load providers or engines here. */
    if (!OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL))
        return fail(&c, KS_TLS_E_SETUP, "TLS: cannot initialise OpenSSL");

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return fail(&c, KS_TLS_E_SETUP, "TLS: cannot create a context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    ERR_clear_error();
    errno = 0;
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        char why[256];
        openssl_reason(why, sizeof why);
        SSL_CTX_free(ctx);
        return fail(&c, KS_TLS_E_SETUP, "CA file %s: no certificates loaded: %s", ca_file, why);
    }
    SSL *ssl = SSL_new(ctx);
    if (!ssl) { SSL_CTX_free(ctx); return fail(&c, KS_TLS_E_SETUP, "TLS: out of memory"); }

    int rc;
    int literal = is_ipv4_literal(host);
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1 : X509_VERIFY_PARAM_set1_host(param, host, 0) != 1) {
        rc = fail(&c, KS_TLS_E_SETUP, "TLS: cannot verify against host name %s", host);
        goto out_ssl;
    }
    /* SNI carries DNS names only (RFC 6066): none for an IP literal. */
    if (!literal && SSL_set_tlsext_host_name(ssl, host) != 1) {
        rc = fail(&c, KS_TLS_E_SETUP, "TLS: bad server name %s", host);
        goto out_ssl;
    }

    int fd = tcp_connect(&c, ip, port);
    if (fd < 0) { rc = fd; goto out_ssl; }
    SSL_set_fd(ssl, fd);
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int ret = SSL_connect(ssl);
        if (ret == 1) break;
        rc = tls_step(&c, ssl, fd, ret, HANDSHAKE);
        if (rc < 0) goto out_fd;
    }
    if ((rc = send_all(&c, ssl, fd, head, head_len)) < 0) goto out_fd;
    if ((rc = send_all(&c, ssl, fd, body, body_len)) < 0) goto out_fd;
    rc = read_status(&c, ssl, fd);
    if (rc >= 0) SSL_shutdown(ssl);              /* best effort close_notify; never waited for */
out_fd:
    close(fd);
out_ssl:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return rc;
}
