/* A provided.al2023 runtime as a small C program: raw sockets, one request per connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[1 << 20];

static int call(const char *method, const char *path, const char *body) {
    char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    char host[64]; int port = 0;
    if (!api || sscanf(api, "%63[^:]:%d", host, &port) != 2) return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    int n = snprintf(buf, sizeof buf, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, api, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, buf, n) != n) return -1;
    int got = 0, r;
    while ((r = read(fd, buf + got, sizeof buf - 1 - got)) > 0) got += r;
    buf[got] = 0;
    close(fd);
    return got;
}

int main(void) {
    char id[128], out[4096];
    for (;;) {
        if (call("GET", "/2018-06-01/runtime/invocation/next", NULL) <= 0) return 1;
        char *h = strcasestr(buf, "Lambda-Runtime-Aws-Request-Id: ");
        if (!h || sscanf(h + 31, "%127[^\r\n]", id) != 1) return 2;
        char *body = strstr(buf, "\r\n\r\n");
        snprintf(out, sizeof out, "{\"from\":\"c\",\"requestId\":\"%s\",\"event\":%s}", id, body ? body + 4 : "null");
        char path[256];
        snprintf(path, sizeof path, "/2018-06-01/runtime/invocation/%s/response", id);
        if (call("POST", path, out) <= 0) return 3;
    }
}
