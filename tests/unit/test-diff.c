/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unified diffs: byte for byte what GNU diff -u prints for the same two files. */

#include <fcntl.h>
#include <sys/wait.h>

#include "fix/engine/diff.h"
#include "test.h"
#include "util/root.h"
#include "util/secret.h"
#include "util/strv.h"

static void write_file(const char *path, const char *data, size_t n)
{
        FILE *f = fopen(path, "wb");

        ASSERT_TRUE(f);
        ASSERT_EQ(fwrite(data, 1, n, f), n);
        ASSERT_EQ(fclose(f), 0);
}

/* What `diff -u --label a --label b A B` prints (A or B NULL: /dev/null). */
static char *gnu_diff(const char *a, size_t na, const char *b, size_t nb)
{
        char dir[] = "/tmp/np-test-diff-XXXXXX", pa[64], pb[64];
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        size_t n = 0;
        FILE *p;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(pa, sizeof(pa), "%s/a", dir);
        snprintf(pb, sizeof(pb), "%s/b", dir);
        if (a)
                write_file(pa, a, na);
        if (b)
                write_file(pb, b, nb);
        cmd = strprintf("diff -u --label %s --label %s %s %s", a ? "a" : "/dev/null",
                        b ? "b" : "/dev/null", a ? pa : "/dev/null", b ? pb : "/dev/null");
        p = popen(cmd, "r");
        ASSERT_TRUE(p);
        ASSERT_OK(np_read_fd(fileno(p), 1 << 24, &out, &n));
        ASSERT_TRUE(WEXITSTATUS(pclose(p)) <= 1);
        (void)unlink(pa);
        (void)unlink(pb);
        ASSERT_EQ(rmdir(dir), 0);
        return TAKE_PTR(out);
}

static void same_as_gnu(const char *a, size_t na, const char *b, size_t nb)
{
        _cleanup_free_ char *ours = np_diff_unified("a", a, na, "b", b, nb, NP_DIFF_CONTEXT),
                            *theirs = gnu_diff(a, na, b, nb);

        ASSERT_TRUE(ours);
        if (!streq(ours, theirs)) {
                fprintf(stderr, "--- ours:\n%s--- GNU diff:\n%s", ours, theirs);
                abort();
        }
}

static void same_as_gnu_s(const char *a, const char *b)
{
        same_as_gnu(a, a ? strlen(a) : 0, b, b ? strlen(b) : 0);
}

/* Replace line `line` (1-based) of text with repl. */
static char *replace_line(const char *text, unsigned line, const char *repl)
{
        const char *p = text;

        for (unsigned i = 1; i < line; i++)
                p = strchr(p, '\n') + 1;
        return strprintf("%.*s%s%s", (int)(p - text), text, repl, strchr(p, '\n') + 1);
}

TEST(real_edits)
{
        size_t size;
        _cleanup_free_ char *conf = read_fixture("iscsi/iscsid.conf.rhel9", &size);
        _cleanup_free_ char *one = replace_line(conf, 54, "node.startup = manual\n");
        _cleanup_free_ char *two = replace_line(one, 267,
                                                "node.conn[0].iscsi."
                                                "MaxRecvDataSegmentLength = 163840\n");
        _cleanup_free_ char *near = replace_line(one, 58, "node.leading_login = Yes\n");
        _cleanup_free_ char *first = replace_line(conf, 1, "# changed\n");
        _cleanup_free_ char *ours = np_diff_unified("/etc/iscsi/iscsid.conf", conf, size,
                                                    "/etc/iscsi/iscsid.conf", one, strlen(one), 3);

        ASSERT_TRUE(startswith(ours, "--- /etc/iscsi/iscsid.conf\n+++ /etc/iscsi/iscsid.conf\n"
                                     "@@ -51,7 +51,7 @@\n"));
        ASSERT_CONTAINS(ours, "\n-node.startup = automatic\n+node.startup = manual\n");
        same_as_gnu_s(conf, one);
        same_as_gnu_s(conf, two);
        same_as_gnu_s(conf, near);
        same_as_gnu_s(conf, first);
        same_as_gnu_s(two, conf);
}

TEST(shapes)
{
        _cleanup_free_ char *eq = np_diff_unified("a", "x\n", 2, "b", "x\n", 2, 3);

        ASSERT_STREQ(eq, "");
        same_as_gnu_s(NULL, "# header\niscsi_tcp\n");
        same_as_gnu_s("a\nb\n", NULL);
        same_as_gnu_s("", "a\n");
        same_as_gnu_s("a\nb\nc", "a\nb\nc\n");
        same_as_gnu_s("a\nb\nc\n", "a\nb\nc\nd");
        same_as_gnu_s("a\r\nb\r\n", "a\r\nB\r\n");
        same_as_gnu_s("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
        /* Gaps of 5, 6 and 7 equal lines between changes: merged up to 2*context. */
        same_as_gnu_s("a\n1\n2\n3\n4\n5\nb\n1\n2\n3\n4\n5\n6\nc\n1\n2\n3\n4\n5\n6\n7\nd\n",
                      "A\n1\n2\n3\n4\n5\nB\n1\n2\n3\n4\n5\n6\nC\n1\n2\n3\n4\n5\n6\n7\nD\n");
        same_as_gnu_s("x\ny\nz\n", "x\nnew1\nnew2\ny\nz\n");
        same_as_gnu_s("x\ny\nz\n", "z\n");
}

/* A line holding a secret is compared as it is and shown redacted, as context or as a change. */
TEST(secrets_redacted)
{
        static const char a[] = "node.session.auth.username = u\n"
                                "node.session.auth.password = hunter2\n"
                                "node.startup = automatic\n"
                                "#discovery.sendtargets.auth.password_in=hunter3\n"
                                "node.session.auth.password_in = hunter4\n";
        static const char b[] = "node.session.auth.username = u\n"
                                "node.session.auth.password = hunter2\n"
                                "node.startup = manual\n"
                                "#discovery.sendtargets.auth.password_in=hunter3\n"
                                "node.session.auth.password_in = hunter5\n";
        _cleanup_free_ char *d = np_diff_unified("x", a, sizeof(a) - 1, "x", b, sizeof(b) - 1, 3);
        _cleanup_free_ char *line = NULL;

        ASSERT_TRUE(d);
        ASSERT_TRUE(!strstr(d, "hunter"));
        ASSERT_CONTAINS(d, " node.session.auth.username = u\n");
        ASSERT_CONTAINS(d, " node.session.auth.password = <redacted>\n");
        ASSERT_CONTAINS(d, " #discovery.sendtargets.auth.password_in = <redacted>\n");
        ASSERT_CONTAINS(d, "-node.session.auth.password_in = <redacted>\n"
                           "+node.session.auth.password_in = <redacted>\n");
        ASSERT_CONTAINS(d, "+node.startup = manual\n");
        ASSERT_TRUE(np_secret_key("host.auth.password_length"));
        ASSERT_TRUE(!np_secret_key("node.session.auth.username_in"));
        ASSERT_NULL(np_secret_redact_line("node.startup = x\n", 17));
        line = np_secret_redact_line("  Password: x", 13);
        ASSERT_STREQ(line, "  Password = <redacted>");
}

static const TestCase tests[] = { T(real_edits), T(shapes), T(secrets_redacted) };

RUN_TESTS(tests)
