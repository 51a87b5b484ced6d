/*
 * Tries calls that a container must not be able to make and prints one line per call:
 * `<name> <errno name>` when refused, `<name> ALLOWED` when it went through.
 *
 * Run only inside the sandbox (test/sandbox/syscalls.test.ts copies it in). Every call is
 * written to do nothing lasting even where it is permitted: ptrace seizes without
 * stopping and detaches, the mount target is a fresh empty directory and is unmounted,
 * kexec_load and init_module get arguments that load nothing, descriptors are closed.
 *
 * argv[1]: pid of a process of the same user that is not a descendant of this one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/perf_event.h>

static void report(const char *name, long rc) {
  if (rc == -1) {
    const char *e = strerrorname_np(errno);
    printf("%s %s\n", name, e ? e : "EUNKNOWN");
  } else {
    printf("%s ALLOWED\n", name);
  }
}

/* A call that returned a descriptor: close it, report it. */
static void report_fd(const char *name, long fd) {
  int saved = errno;
  if (fd >= 0) close((int)fd);
  errno = saved;
  report(name, fd < 0 ? -1 : 0);
}

static void try_ptrace(const char *name, pid_t pid) {
  long rc = ptrace(PTRACE_SEIZE, pid, 0, 0);
  int saved = errno;
  if (rc == 0) ptrace(PTRACE_DETACH, pid, 0, 0);
  errno = saved;
  report(name, rc);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  try_ptrace("ptrace_init", 1);
  if (argc > 1) try_ptrace("ptrace_sibling", (pid_t)atoi(argv[1]));

  union bpf_attr map;
  memset(&map, 0, sizeof map);
  map.map_type = BPF_MAP_TYPE_ARRAY;
  map.key_size = 4;
  map.value_size = 4;
  map.max_entries = 1;
  report_fd("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &map, sizeof map));

  struct perf_event_attr pe;
  memset(&pe, 0, sizeof pe);
  pe.type = PERF_TYPE_SOFTWARE;
  pe.size = sizeof pe;
  pe.config = PERF_COUNT_SW_CPU_CLOCK;
  pe.disabled = 1;
  report_fd("perf_event_open", syscall(SYS_perf_event_open, &pe, 0, -1, -1, 0));

  /* Flags no kernel accepts: where the caller is permitted this fails with EINVAL, loading nothing. */
  report("kexec_load", syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL));
  /* An empty image: where permitted this fails with ENOEXEC or EINVAL, loading nothing. */
  report("init_module", syscall(SYS_init_module, NULL, 0UL, ""));

  char dir[] = "/tmp/userz-probe-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    report("mount", -1);
  } else {
    long rc = mount("none", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k");
    int saved = errno;
    if (rc == 0) umount2(dir, MNT_DETACH);
    rmdir(dir);
    errno = saved;
    report("mount", rc);
  }

  report("keyctl", syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, "userz-probe"));
  report("add_key", syscall(SYS_add_key, "user", "userz-probe", "x", 1UL, -3 /* KEY_SPEC_SESSION_KEYRING */));

  report_fd("raw_socket_inet", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
  report_fd("raw_socket_inet6", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
  report_fd("packet_socket", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));

  /* Controls, expected ALLOWED: the probe itself works and ptrace exists for one's own child. */
  report_fd("control_unix_socket", socket(AF_UNIX, SOCK_STREAM, 0));
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  try_ptrace("control_ptrace_child", child);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return 0;
}
