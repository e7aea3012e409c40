/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Version probes: the one place nodeprep runs another program to learn about the host
 * (np_probe_run()), and what it reads instead under --root, where nothing is ever executed.
 */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe/probe.h"
#include "util/strv.h"

#define RUN_TIMEOUT_MS 10000
#define RUN_OUTPUT_MAX 4096 /* a version line fits many times over */

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* In the child: exec the file at path, in a process group of its own, with stdin from
 * /dev/null, stdout and stderr to out, default signal handling and a fixed environment. */
_noreturn_ static void child_exec(const char *path, char *const *args, int out)
{
        char *argv[16] = { (char *)path };
        char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "HOME=/nonexistent",
                         NULL };
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        size_t n = 1;
        int devnull;

        /* The group lets the parent kill whatever the tool starts. */
        (void)setpgid(0, 0);
        /* The daemon blocks the signals sd-event handles; the mask survives exec. */
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < _NSIG; sig++)
                (void)sigaction(sig, &dfl, NULL);
        STRV_FOREACH (a, (char **)args)
                if (n < ELEMENTSOF(argv) - 1)
                        argv[n++] = *a;
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
            dup2(out, STDERR_FILENO) < 0)
                _exit(127);
        execve(path, argv, envp);
        _exit(127);
}

int np_probe_run(const NpRoot *root, const char *path, char *const *args, char **ret_output,
                 int *ret_status)
{
        _cleanup_close_ int rd = -EBADF, wr = -EBADF;
        char buf[RUN_OUTPUT_MAX + 1];
        size_t n = 0;
        uint64_t deadline;
        int fds[2], status = 0, r = 0;
        bool exited = false;
        pid_t pid;

        /* A --root tree is data, never code. */
        if (!root->host)
                return -EPERM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        rd = fds[0];
        wr = fds[1];
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_exec(path, args, wr);
        (void)setpgid(pid, pid); /* also here: no race with the kill below */
        wr = safe_close(wr);     /* NOLINT(clang-analyzer-deadcode.DeadStores): read by _cleanup_ */

        deadline = now_ms() + RUN_TIMEOUT_MS;
        for (;;) {
                struct pollfd p = { .fd = rd, .events = POLLIN };
                uint64_t now = now_ms();
                ssize_t k;

                if (now >= deadline) {
                        r = -ETIME;
                        break;
                }
                k = poll(&p, 1, (int)(deadline - now));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -ETIME;
                        break;
                }
                k = read(rd, buf + n, sizeof(buf) - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break; /* end of output */
                n += (size_t)k;
                if (n > RUN_OUTPUT_MAX) {
                        r = -EFBIG; /* more than a version probe prints: not read further */
                        break;
                }
        }
        /* Output closed: give the program the rest of the time to exit. */
        while (r == 0) {
                pid_t w = waitpid(pid, &status, WNOHANG);

                if (w == pid) {
                        exited = true;
                        break;
                }
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (now_ms() >= deadline)
                        r = -ETIME;
                else
                        (void)poll(NULL, 0, 10);
        }
        /* Whatever is left of the group (the program on timeout, anything it started). The
         * leader is not reaped yet, so its pid cannot have been reused. */
        (void)kill(-pid, SIGKILL);
        if (!exited)
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        if (r < 0)
                return r;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && n == 0)
                return -ENOEXEC;
        buf[n] = '\0';
        if (ret_status)
                *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        *ret_output = strndup(buf, n);
        return *ret_output ? 0 : -ENOMEM;
}

const char *np_probe_run_error(int error)
{
        switch (error) {
        case -ETIME:
                return "timed out after 10 s (killed)";
        case -EFBIG:
                return "printed more than 4096 bytes (killed)";
        case -EPERM:
                return "not run: nothing under --root is executed";
        default:
                return strerror(-error);
        }
}

/* The value of "Field: value" in one dpkg status stanza, NULL if absent. */
static char *stanza_field(const char *stanza, size_t len, const char *field)
{
        size_t fl = strlen(field);

        for (const char *l = stanza; l < stanza + len;) {
                const char *nl = memchr(l, '\n', (size_t)(stanza + len - l));
                size_t ll = nl ? (size_t)(nl - l) : (size_t)(stanza + len - l);

                if (ll > fl + 1 && strncmp(l, field, fl) == 0 && l[fl] == ':') {
                        const char *v = l + fl + 1;

                        while (*v == ' ' || *v == '\t')
                                v++;
                        return strndup(v, (size_t)(l + ll - v));
                }
                l += ll + 1;
        }
        return NULL;
}

int np_dpkg_installed_version(const char *status, const char *name, char **ret)
{
        for (const char *s = status; *s;) {
                const char *end = strstr(s, "\n\n");
                size_t len = end ? (size_t)(end - s) + 1 : strlen(s);
                _cleanup_free_ char *pkg = stanza_field(s, len, "Package");
                _cleanup_free_ char *st = NULL;

                if (pkg && streq(pkg, name)) {
                        st = stanza_field(s, len, "Status");
                        if (st && streq(st, "install ok installed")) {
                                *ret = stanza_field(s, len, "Version");
                                return *ret ? 0 : -ENOMEM;
                        }
                }
                s += len;
                while (*s == '\n')
                        s++;
        }
        return -ENOENT;
}

/* Does the file list (one path a line) hold path? */
static bool list_has(const char *list, const char *path)
{
        size_t pl = strlen(path);

        for (const char *l = list; (l = strstr(l, path)); l += pl)
                if ((l == list || l[-1] == '\n') && (l[pl] == '\n' || l[pl] == '\0'))
                        return true;
        return false;
}

int np_probe_version_from_files(const NpRoot *root, const char *path, char **ret_text,
                                char **ret_unknown)
{
        static const char *const arch_suffix[] = { "", ":amd64", ":arm64", ":ppc64el", ":s390x" };
        _cleanup_free_ char *status = NULL;
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        /* merged /usr: dpkg may have recorded /bin/x for /usr/bin/x and the other way round */
        const char *alt = startswith(path, "/usr");
        int r;

        /* Only a package named like the program is looked at (kubelet, kubectl, helm): the
         * version dpkg recorded for the package whose file list holds the path. */
        for (size_t i = 0; i < ELEMENTSOF(arch_suffix); i++) {
                _cleanup_free_ char *lp =
                    strprintf("/var/lib/dpkg/info/%s%s.list", base, arch_suffix[i]);
                _cleanup_free_ char *list = NULL, *version = NULL;

                if (!lp)
                        return -ENOMEM;
                r = np_root_read_file(root, lp, NP_READ_MAX_DEFAULT, &list, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !(list_has(list, path) || (alt && list_has(list, alt))))
                        continue;
                if (!status) {
                        r = np_root_read_file(root, "/var/lib/dpkg/status", 64U * 1024U * 1024U,
                                              &status, NULL);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                break;
                }
                r = np_dpkg_installed_version(status, base, &version);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                *ret_text = strprintf("%s %s (dpkg database: the package that installed %s)", base,
                                      version, path);
                return *ret_text ? 0 : -ENOMEM;
        }
        *ret_unknown = strprintf("%s: not run: nothing under --root is executed, and no "
                                 "installed dpkg package named %s lists it",
                                 path, base);
        return *ret_unknown ? 0 : -ENOMEM;
}
