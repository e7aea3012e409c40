/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths resolve inside the root, with openat2(RESOLVE_IN_ROOT) and with the component walk used
 * where openat2() is missing: both must give the same answers, symlinks included.
 */

#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "test.h"
#include "util/compat.h"
#include "util/root.h"
#include "util/strv.h"

static char tree[PATH_MAX];

static void mk(const char *rel, const char *content)
{
        char p[2 * PATH_MAX];
        FILE *f;

        snprintf(p, sizeof(p), "%s/%s", tree, rel);
        f = fopen(p, "w");
        ASSERT_TRUE(f);
        fputs(content, f);
        fclose(f);
}

static void ln(const char *target, const char *rel)
{
        char p[2 * PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", tree, rel);
        ASSERT_TRUE(symlink(target, p) == 0);
}

static void md(const char *rel)
{
        char p[2 * PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", tree, rel);
        ASSERT_TRUE(mkdir(p, 0755) == 0);
}

static void setup(void)
{
        char t[] = "/tmp/nodeprep-root-test.XXXXXX";

        ASSERT_TRUE(mkdtemp(t));
        snprintf(tree, sizeof(tree), "%s", t);
        md("etc");
        md("etc/modules-load.d");
        md("usr");
        md("usr/lib");
        mk("etc/modules", "from /etc/modules\n");
        ln("../modules", "etc/modules-load.d/modules.conf");
        ln("/etc/modules", "etc/modules-load.d/abs.conf");
        ln("/../../../../etc/modules", "etc/modules-load.d/escape.conf");
        ln("../../../../../../etc/hostname", "etc/modules-load.d/climb.conf");
        ln("loop2", "etc/loop1");
        ln("loop1", "etc/loop2");
        ln("/nonexistent", "etc/dangling");
        ln("usr/lib", "lib");
        mk("usr/lib/os-release", "ID=test\n");
}

static char *read_in_root(const NpRoot *root, const char *path, int *ret_error)
{
        char *data = NULL;
        int r = np_root_read_file(root, path, 4096, &data, NULL);

        *ret_error = r < 0 ? r : 0;
        return data;
}

static void check_both(const char *path, const char *expect, int expect_error)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;

        ASSERT_OK(np_root_new(tree, &root));
        for (int chase = 0; chase < 2; chase++) {
                _cleanup_free_ char *data = NULL;
                int error;

                np_root_force_chase(chase);
                data = read_in_root(root, path, &error);
                if (expect) {
                        if (!data)
                                fprintf(stderr, "%s (chase=%d): %s\n", path, chase,
                                        strerror(-error));
                        ASSERT_STREQ(data, expect);
                } else
                        ASSERT_EQ(error, expect_error);
        }
        np_root_force_chase(false);
}

TEST(resolve)
{
        check_both("/etc/modules", "from /etc/modules\n", 0);
        check_both("/etc/modules-load.d/modules.conf", "from /etc/modules\n", 0);
        /* An absolute symlink resolves inside the root, not on this machine. */
        check_both("/etc/modules-load.d/abs.conf", "from /etc/modules\n", 0);
        /* ".." never climbs above the root. */
        check_both("/etc/modules-load.d/escape.conf", "from /etc/modules\n", 0);
        check_both("/../../etc/modules", "from /etc/modules\n", 0);
        check_both("/etc/modules-load.d/climb.conf", NULL, -ENOENT);
        /* A directory symlink in the middle of a path (merged /usr). */
        check_both("/lib/os-release", "ID=test\n", 0);
        check_both("/etc/loop1", NULL, -ELOOP);
        check_both("/etc/dangling", NULL, -ENOENT);
        check_both("/etc/modules/x", NULL, -ENOTDIR);
        check_both("/etc", NULL, -EISDIR);
}

TEST(nofollow_and_list)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;

        ASSERT_OK(np_root_new(tree, &root));
        for (int chase = 0; chase < 2; chase++) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                np_root_force_chase(chase);
                /* O_PATH|O_NOFOLLOW gives the symlink itself (masking checks rely on it). */
                fd = np_root_open(root, "/etc/modules-load.d/abs.conf", O_PATH | O_NOFOLLOW);
                ASSERT_TRUE(fd >= 0);
                ASSERT_TRUE(fstat(fd, &st) == 0 && S_ISLNK(st.st_mode));
                ASSERT_OK(np_root_list_dir(root, "/etc/modules-load.d", &names));
                ASSERT_EQ(strv_length(names), 4);
                ASSERT_STREQ(names[0], "abs.conf");
                ASSERT_EQ(np_root_exists(root, "/lib/os-release"), 1);
                ASSERT_EQ(np_root_exists(root, "/nope"), 0);
        }
        np_root_force_chase(false);
}

static bool recorded(const NpWatchList *l, const char *rel_dir, const char *name)
{
        char dir[2 * PATH_MAX];

        snprintf(dir, sizeof(dir), "%s%s", tree, rel_dir);
        return np_watch_list_contains(l, dir, name, 7);
}

/* What the daemon watches is what the opener recorded (np_root_record()). */
TEST(record)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;

        ASSERT_OK(np_root_new(tree, &root));
        for (int chase = 0; chase < 2; chase++) {
                _cleanup_(np_watch_list_done) NpWatchList l = {};
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ char *data = NULL;
                int error;

                np_root_force_chase(chase);
                np_root_record(root, &l, 7);
                data = read_in_root(root, "/etc/modules-load.d/modules.conf", &error);
                ASSERT_TRUE(data);
                /* The name read, and the file its symlink reached. */
                ASSERT_TRUE(recorded(&l, "/etc/modules-load.d", "modules.conf"));
                ASSERT_TRUE(recorded(&l, "/etc", "modules"));
                /* A directory listed: whole; trailing slashes do not matter. */
                ASSERT_OK(np_root_list_dir(root, "/etc/modules-load.d/", &names));
                ASSERT_TRUE(recorded(&l, "/etc/modules-load.d", NULL));
                /* Absent, below a missing directory: the name in its would-be parent. */
                ASSERT_EQ(np_root_exists(root, "/nope/deeper"), 0);
                ASSERT_TRUE(recorded(&l, "/nope", "deeper"));
                /* Through a symlinked directory (/lib -> usr/lib): both places. */
                ASSERT_EQ(np_root_exists(root, "/lib/os-release"), 1);
                ASSERT_TRUE(recorded(&l, "/lib", "os-release"));
                ASSERT_TRUE(recorded(&l, "/usr/lib", "os-release"));
                ASSERT_EQ(l.n, 6);
                /* Stopped: nothing more is recorded. */
                np_root_record(root, NULL, 0);
                ASSERT_EQ(np_root_exists(root, "/etc/os-release"), 0);
                ASSERT_EQ(l.n, 6);
        }
        np_root_force_chase(false);
}

/* openat2() refused with EPERM, as under systemd 247's RestrictSUIDSGID= or systemd 239's
 * SystemCallFilter= (which knows no openat2): paths resolve all the same, by the walk. Runs last:
 * the filter stays on this process. */
TEST(openat2_refused)
{
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(filter), .filter = filter };

        if (SYS_openat2 < 0)
                return; /* headers without openat2: the walk is all there is */
        ASSERT_EQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        ASSERT_EQ(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
        test_resolve();
        test_nofollow_and_list();
}

static const TestCase tests[] = { T(resolve), T(nofollow_and_list), T(record), T(openat2_refused) };

int main(void)
{
        int r;

        setup();
        for (size_t i = 0; i < ELEMENTSOF(tests); i++) {
                tests[i].fn();
                printf("ok %zu - %s\n", i + 1, tests[i].name);
        }
        {
                char cmd[PATH_MAX + 16];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
                r = system(cmd);
        }
        printf("1..%zu\n", ELEMENTSOF(tests));
        return r == 0 ? 0 : 1;
}
