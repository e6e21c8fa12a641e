// The floor any seccomp filter imposes on a cheap syscall on this kernel: getppid() with no filter
// versus a one-instruction "allow everything" filter (the syscall takes the seccomp entry path).
// Compare kitsune-bench's getppid ratio with this one.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double best_ns_per_call(void) {
    double best = 1e18;
    for (int round = 0; round < 9; round++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < 1000000; i++) getppid();
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e6;
        if (ns < best) best = ns;
    }
    return best;
}

int main(void) {
    double bare = best_ns_per_call();
    int fds[2];
    if (pipe(fds) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        struct sock_filter allow[] = { { BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW } };
        struct sock_fprog prog = { 1, allow };
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(1);
        double filtered = best_ns_per_call();
        if (write(fds[1], &filtered, sizeof filtered) != sizeof filtered) _exit(1);
        _exit(0);
    }
    double filtered = 0;
    if (read(fds[0], &filtered, sizeof filtered) != sizeof filtered) return 1;
    waitpid(pid, NULL, 0);
    printf("seccomp floor: getppid bare %.1f ns, under a 1-instruction allow filter %.1f ns, ratio %.3f "
           "(no seccomp-based enforcer can go below this)\n", bare, filtered, filtered / bare);
    return 0;
}
