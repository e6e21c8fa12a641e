// kitsune-enforcer: wraps a command and protects its whole process tree with no_new_privs,
// Landlock, seccomp filters and seccomp user notification. Embedded Swift, statically linked.
import CKitsuneSys

ks_exit(runEnforcer())
