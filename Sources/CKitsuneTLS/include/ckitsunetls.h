/// CKitsuneTLS — one HTTPS exchange for kitsune-ship, over OpenSSL (linked statically).
/// Fixed arity (Embedded Swift cannot call variadic C functions); everything HTTP-textual (the request
/// head) is composed by the Swift side, this shim only moves bytes: TCP, TLS, status line.
#pragma once
#include <stdint.h>
#include <stddef.h>

/// Negative results of ks_tls_post; `err` then holds one line saying what went wrong.
enum {
    KS_TLS_E_CONNECT = -1,   /* socket/connect failed: "connect: Connection refused" */
    KS_TLS_E_TIMEOUT = -2,   /* the deadline passed; `err` names the phase ("TLS handshake") */
    KS_TLS_E_TLS = -3,       /* TLS failure: "TLS: certificate verify failed: hostname mismatch" */
    KS_TLS_E_IO = -4,        /* send/receive failed after the handshake */
    KS_TLS_E_HTTP = -5,      /* no or malformed HTTP answer */
    KS_TLS_E_SETUP = -6,     /* CA file unusable, bad host name for verification, out of memory */
};

/// Connect to `ip`:`port` (IPv4, no name resolution), TLS 1.2 or newer with SNI = `host` (unless `host`
/// is an IP literal), the peer certificate verified against the PEM bundle `ca_file` and against `host`
/// (DNS name, or IP literal matched against IP SANs); send `head` then `body`; read the answer up to the
/// end of its final (non-1xx) status line. Everything is bounded by `timeout_ms` from the call.
/// Returns the HTTP status (100..999), or a KS_TLS_E_* code with `err` filled (NUL-terminated).
/// For a final status outside 2xx, the answer's head and up to KS_TLS_ANSWER_BODY bytes of its body
/// (best effort, within the deadline) are copied to `answer` (at most `answer_cap` bytes, length in
/// `*answer_len`; `answer` may be NULL).
/// OpenSSL's configuration file is never loaded (OPENSSL_CONF is ignored) and SIGPIPE is ignored.
int ks_tls_post(const char *host, const uint8_t ip[4], int port, const char *ca_file,
                const void *head, size_t head_len, const void *body, size_t body_len,
                int timeout_ms, char *err, size_t err_len, char *answer, size_t answer_cap, size_t *answer_len);

/// How much of a non-2xx answer's body ks_tls_post keeps.
#define KS_TLS_ANSWER_BODY 200
