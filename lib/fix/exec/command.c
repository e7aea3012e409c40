/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run a named program (no shell), with a timeout, collecting its output. */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fix/exec/runtime.h"
#include "util/strv.h"

#define OUTPUT_MAX (64U * 1024U)

static const char *const program_dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

static char *find_program(const char *name)
{
        if (strchr(name, '/'))
                return access(name, X_OK) == 0 ? strdup(name) : NULL;
        for (size_t i = 0; i < ELEMENTSOF(program_dirs); i++) {
                _cleanup_free_ char *p = strprintf("%s/%s", program_dirs[i], name);
                struct stat st;

                if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
                        return TAKE_PTR(p);
        }
        return NULL;
}

/* environ with extra ("K=V") added, replacing entries of the same name. */
static char **make_env(char *const *extra)
{
        extern char **environ;
        char **env = NULL;

        for (char **e = environ; e && *e; e++) {
                bool replaced = false;

                STRV_FOREACH (x, (char **)extra) {
                        size_t k = strcspn(*x, "=");

                        if (strneq(*e, *x, k + 1))
                                replaced = true;
                }
                if (!replaced && strv_extend(&env, *e) < 0)
                        return strv_free(env);
        }
        STRV_FOREACH (x, (char **)extra)
                if (strv_extend(&env, *x) < 0)
                        return strv_free(env);
        return env ? env : calloc(1, sizeof(char *));
}

static uint64_t now_msec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Keep the last OUTPUT_MAX bytes: the end of a failing program's output says why. */
static int append_output(char **buf, size_t *n, const char *data, size_t k)
{
        char *b = realloc(*buf, *n + k + 1);

        if (!b)
                return -ENOMEM;
        memcpy(b + *n, data, k);
        *n += k;
        if (*n > OUTPUT_MAX) {
                memmove(b, b + *n - OUTPUT_MAX, OUTPUT_MAX);
                *n = OUTPUT_MAX;
        }
        b[*n] = '\0';
        *buf = b;
        return 0;
}

int np_command_run(char *const *argv, char *const *extra_env, unsigned timeout_sec,
                   char **ret_output)
{
        _cleanup_free_ char *path = NULL, *out = NULL;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        uint64_t deadline = now_msec() + (uint64_t)timeout_sec * 1000;
        size_t n = 0;
        int fds[2], status = 0, r = 0;
        bool timed_out = false;
        pid_t pid;

        if (strv_length((char **)argv) == 0)
                return -EINVAL;
        path = find_program(argv[0]);
        if (!path)
                return -ENOENT;
        env = make_env(extra_env);
        if (!env)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        rfd = fds[0];
        wfd = fds[1];

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(wfd, STDOUT_FILENO) < 0 ||
                    dup2(wfd, STDERR_FILENO) < 0)
                        _exit(127);
                execve(path, argv, env);
                _exit(127);
        }
        wfd = safe_close(wfd); /* NOLINT(clang-analyzer-deadcode.DeadStores): _cleanup_close_ */

        for (;;) {
                struct pollfd p = { .fd = rfd, .events = POLLIN };
                uint64_t now = now_msec();
                char buf[4096];
                ssize_t k;

                if (now >= deadline) {
                        timed_out = true;
                        break;
                }
                r = poll(&p, 1, (int)MIN(deadline - now, (uint64_t)1000));
                if (r < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (r <= 0)
                        continue;
                k = read(rfd, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                r = append_output(&out, &n, buf, (size_t)k);
                if (r < 0)
                        break;
        }
        if (timed_out || r < 0)
                (void)kill(pid, SIGKILL); /* our own child: it must not outlive the step */
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (ret_output)
                *ret_output = out ? TAKE_PTR(out) : strdup("");
        if (timed_out)
                return -ETIMEDOUT;
        if (r < 0)
                return r;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}
