/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The editors behind the file fixes: real iscsid.conf and SELinux files from Debian, RHEL and
 * SUSE come back byte for byte except the intended line, and every placement rule (active line,
 * commented-out key, rejected line, append, CRLF, unterminated last line) does what iscsid,
 * libselinux and systemd-modules-load will read.
 */

#include "fix/plan/conf-edit.h"
#include "probe/iscsid-conf.h"
#include "probe/selinux-config.h"
#include "test.h"
#include "util/strv.h"

/* Physical lines of a text (with their endings). */
static char **lines_of(const char *s, size_t n)
{
        char **l = NULL;
        size_t pos = 0;

        while (pos < n) {
                const char *nl = memchr(s + pos, '\n', n - pos);
                size_t len = nl ? (size_t)(nl - (s + pos)) + 1 : n - pos;

                ASSERT_OK(strv_consume(&l, strndup(s + pos, len)));
                pos += len;
        }
        return l ? l : calloc(1, sizeof(char *));
}

/* The 1-based numbers of the lines that differ between two texts with the same line count,
 * joined by ","; "" when none differ. Aborts when the line counts differ. */
static char *changed_lines(const char *a, size_t na, const char *b, size_t nb)
{
        _cleanup_strv_free_ char **la = lines_of(a, na), **lb = lines_of(b, nb), **out = NULL;

        ASSERT_EQ(strv_length(la), strv_length(lb));
        for (size_t i = 0; la[i]; i++)
                if (!streq(la[i], lb[i]))
                        ASSERT_OK(strv_consume(&out, strprintf("%zu", i + 1)));
        return out ? strv_join(out, ",") : strdup("");
}

static char *line_at(const char *s, size_t n, unsigned line)
{
        _cleanup_strv_free_ char **l = lines_of(s, n);

        ASSERT_TRUE(line >= 1 && line <= strv_length(l));
        return strdup(l[line - 1]);
}

static int iscsi_set(const char *in, const char *key, const char *value, char **out)
{
        _cleanup_free_ char *where = NULL, *error = NULL;
        size_t n;
        int r = np_iscsi_conf_set(in, strlen(in), key, value, out, &n, &where, &error);

        if (r < 0)
                fprintf(stderr, "np_iscsi_conf_set: %s\n", strna(error));
        return r;
}

TEST(iscsid_conf_shipped_files)
{
        static const struct {
                const char *file;
                unsigned startup_line, mrdsl_line;
                bool startup_manual;
        } files[] = {
                { "iscsi/iscsid.conf.debian12", 54, 267, true },
                { "iscsi/iscsid.conf.rhel9", 54, 267, false },
                { "iscsi/iscsid.conf.rhel9.0", 45, 253, false },
                { "iscsi/iscsid.conf.opensuse", 54, 291, true },
                { "iscsi/iscsid.conf.upstream", 54, 290, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *data = NULL, *step1 = NULL, *step2 = NULL, *changed = NULL,
                                    *where = NULL, *error = NULL, *line = NULL, *expected = NULL;
                NpIscsiRecord before = {}, after = {};
                size_t size, n1, n2;
                int r;

                data = read_fixture(files[i].file, &size);
                r = np_iscsi_conf_set(data, size, "node.startup", "manual", &step1, &n1, &where,
                                      &error);
                ASSERT_OK(r);
                if (files[i].startup_manual) {
                        /* Already so: the same bytes come back. */
                        ASSERT_EQ(r, 0);
                        ASSERT_EQ(n1, size);
                        ASSERT_TRUE(memcmp(step1, data, size) == 0);
                } else {
                        ASSERT_EQ(r, 1);
                        changed = changed_lines(data, size, step1, n1);
                        expected = strprintf("%u", files[i].startup_line);
                        ASSERT_STREQ(changed, expected);
                        line = line_at(step1, n1, files[i].startup_line);
                        ASSERT_STREQ(line, "node.startup = manual\n");
                        ASSERT_CONTAINS(where, "was \"automatic\"");
                        changed = mfree(changed);
                        expected = mfree(expected);
                        line = mfree(line);
                }

                free(where);
                where = NULL;
                r = np_iscsi_conf_set(step1, n1, NP_ISCSI_KEY_MRDSL, "163840", &step2, &n2, &where,
                                      &error);
                ASSERT_EQ(r, 1);
                changed = changed_lines(data, size, step2, n2);
                expected = files[i].startup_manual
                               ? strprintf("%u", files[i].mrdsl_line)
                               : strprintf("%u,%u", files[i].startup_line, files[i].mrdsl_line);
                ASSERT_STREQ(changed, expected);
                line = line_at(step2, n2, files[i].mrdsl_line);
                ASSERT_STREQ(line, "node.conn[0].iscsi.MaxRecvDataSegmentLength = 163840\n");

                /* iscsid sees the two settings changed and nothing else. */
                ASSERT_OK(np_iscsi_record_parse(data, size, &before));
                ASSERT_OK(np_iscsi_record_parse(step2, n2, &after));
                ASSERT_EQ(before.n_settings, after.n_settings);
                ASSERT_EQ(after.n_problems, 0);
                FOREACH_ARRAY (kv, before.settings, before.n_settings) {
                        const NpKeyValue *a =
                            np_key_values_get(after.settings, after.n_settings, kv->key);
                        ASSERT_TRUE(a);
                        if (streq(kv->key, "node.startup"))
                                ASSERT_STREQ(a->value, "manual");
                        else if (streq(kv->key, NP_ISCSI_KEY_MRDSL))
                                ASSERT_STREQ(a->value, "163840");
                        else
                                ASSERT_STREQ(a->value, kv->value);
                }
                np_iscsi_record_done(&before);
                np_iscsi_record_done(&after);
        }
}

TEST(iscsid_conf_commented_out)
{
        _cleanup_free_ char *out = NULL;

        /* Debian's file without its active line: the new line follows "# node.startup = ...". */
        ASSERT_EQ(iscsi_set("# To request that the iscsi service scripts startup a session, use "
                            "\"automatic\":\n"
                            "# node.startup = automatic\n"
                            "#\n"
                            "# To manually startup the session, use \"manual\". The default is "
                            "manual.\n"
                            "node.leading_login = No\n",
                            "node.startup", "manual", &out),
                  1);
        ASSERT_STREQ(out, "# To request that the iscsi service scripts startup a session, use "
                          "\"automatic\":\n"
                          "# node.startup = automatic\n"
                          "node.startup = manual\n"
                          "#\n"
                          "# To manually startup the session, use \"manual\". The default is "
                          "manual.\n"
                          "node.leading_login = No\n");
        out = mfree(out);

        /* The last commented-out occurrence, "#key=value" spelling too. */
        ASSERT_EQ(iscsi_set("#node.startup=automatic\nx = 1\n  ##node.startup = onboot\ny = 2\n",
                            "node.startup", "manual", &out),
                  1);
        ASSERT_STREQ(out, "#node.startup=automatic\nx = 1\n  ##node.startup = onboot\n"
                          "node.startup = manual\ny = 2\n");
        out = mfree(out);

        /* A comment that merely mentions a longer key is not the key commented out. */
        ASSERT_EQ(iscsi_set("# node.startupX = 1\nx = 1\n", "node.startup", "manual", &out), 1);
        ASSERT_STREQ(out, "# node.startupX = 1\nx = 1\n# set by nodeprep\nnode.startup = manual\n");
}

TEST(iscsid_conf_rejected_and_active_lines)
{
        _cleanup_free_ char *out = NULL;

        /* iscsid rejects "k=v": it stays, the working line goes right after it. */
        ASSERT_EQ(iscsi_set("node.startup=automatic\nx = 1\n", "node.startup", "manual", &out), 1);
        ASSERT_STREQ(out, "node.startup=automatic\nnode.startup = manual\nx = 1\n");
        out = mfree(out);

        /* Last valid line wins: that is the one changed. */
        ASSERT_EQ(iscsi_set("node.startup = manual\nnode.startup = automatic\n", "node.startup",
                            "manual", &out),
                  1);
        ASSERT_STREQ(out, "node.startup = manual\nnode.startup = manual\n");
        out = mfree(out);

        /* An invalid enum value keeps the previous one: line 1 is the active line. */
        ASSERT_EQ(iscsi_set("node.startup = automatic\nnode.startup = Manual\n", "node.startup",
                            "manual", &out),
                  1);
        ASSERT_STREQ(out, "node.startup = manual\nnode.startup = Manual\n");
        out = mfree(out);

        /* Indentation and CRLF of the active line are kept; CRLF files get CRLF lines. */
        ASSERT_EQ(
            iscsi_set("\tnode.startup =  automatic  \r\nx = 1\r\n", "node.startup", "manual", &out),
            1);
        ASSERT_STREQ(out, "\tnode.startup = manual\r\nx = 1\r\n");
        out = mfree(out);
        ASSERT_EQ(iscsi_set("x = 1\r\ny = 2\r\n", "node.startup", "manual", &out), 1);
        ASSERT_STREQ(out, "x = 1\r\ny = 2\r\n# set by nodeprep\r\nnode.startup = manual\r\n");
        out = mfree(out);

        /* Already the value: the same text back. */
        ASSERT_EQ(iscsi_set("node.conn[0].iscsi.MaxRecvDataSegmentLength = 163840\n",
                            NP_ISCSI_KEY_MRDSL, "163840", &out),
                  0);
}

TEST(iscsid_conf_append)
{
        _cleanup_free_ char *out = NULL;

        ASSERT_EQ(iscsi_set("", "node.startup", "manual", &out), 1);
        ASSERT_STREQ(out, "# set by nodeprep\nnode.startup = manual\n");
        out = mfree(out);

        /* iscsid never reads an unterminated last line: it stays last and unread. */
        ASSERT_EQ(iscsi_set("x = 1\nnode.startup = automatic", "node.startup", "manual", &out), 1);
        ASSERT_STREQ(out, "x = 1\n# set by nodeprep\nnode.startup = manual\n"
                          "node.startup = automatic");
}

TEST(iscsid_conf_refusals)
{
        _cleanup_free_ char *out = NULL, *error = NULL, *longline = NULL;
        size_t n;

        ASSERT_EQ(np_iscsi_conf_set("", 0, "node.startup", "man ual\n", &out, &n, NULL, &error),
                  -EINVAL);
        error = mfree(error);
        ASSERT_EQ(np_iscsi_conf_set("", 0, "node startup", "manual", &out, &n, NULL, &error),
                  -EINVAL);
        error = mfree(error);
        ASSERT_EQ(np_iscsi_conf_set("", 0, "node.startup", "", &out, &n, NULL, &error), -EINVAL);
        error = mfree(error);

        /* iscsid reads the key from the tail of an over-long line: nodeprep will not guess. */
        longline = malloc(2047 + 64);
        ASSERT_TRUE(longline);
        memset(longline, 'x', 2047);
        strcpy(longline + 2047, "node.startup = automatic\n");
        ASSERT_EQ(np_iscsi_conf_set(longline, strlen(longline), "node.startup", "manual", &out, &n,
                                    NULL, &error),
                  -EMEDIUMTYPE);
        ASSERT_CONTAINS(error, "longer than 2047 bytes");
}

static int selinux_set(const char *in, NpSelinuxMode mode, char **out)
{
        _cleanup_free_ char *error = NULL, *where = NULL;
        size_t n;

        return np_selinux_config_set(in, strlen(in), mode, out, &n, &where, &error);
}

TEST(selinux_config_shipped_files)
{
        static const char *const files[] = { "selinux/config.rhel9", "selinux/config.fedora" };
        size_t size, n;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *data = read_fixture(files[i], &size), *out = NULL,
                                    *changed = NULL, *line = NULL, *where = NULL, *error = NULL;

                ASSERT_EQ(np_selinux_config_set(data, size, NP_SELINUX_PERMISSIVE, &out, &n, &where,
                                                &error),
                          1);
                changed = changed_lines(data, size, out, n);
                ASSERT_STREQ(changed, "22");
                line = line_at(out, n, 22);
                ASSERT_STREQ(line, "SELINUX=permissive\n");
                ASSERT_STREQ(where, "line 22, was \"SELINUX=enforcing\"");
        }
        {
                _cleanup_free_ char *data = read_fixture("selinux/config.debian", &size),
                                    *out = NULL, *where = NULL, *error = NULL;

                ASSERT_EQ(np_selinux_config_set(data, size, NP_SELINUX_PERMISSIVE, &out, &n, &where,
                                                &error),
                          0);
                ASSERT_EQ(n, size);
                ASSERT_TRUE(memcmp(out, data, size) == 0);
        }
}

TEST(selinux_config_rules)
{
        _cleanup_free_ char *out = NULL, *error = NULL;
        size_t n;

        /* Never "disabled", and the reason is given. */
        ASSERT_EQ(np_selinux_config_set("", 0, NP_SELINUX_DISABLED, &out, &n, NULL, &error),
                  -EINVAL);
        ASSERT_CONTAINS(error, "relabel");

        /* libselinux skips indented lines: the column-0 line is the one changed. */
        ASSERT_EQ(selinux_set("  SELINUX=enforcing\nSELINUX=enforcing # prod\n",
                              NP_SELINUX_PERMISSIVE, &out),
                  1);
        ASSERT_STREQ(out, "  SELINUX=enforcing\nSELINUX=permissive\n");
        out = mfree(out);

        /* First recognised line wins; later ones are left alone. */
        ASSERT_EQ(
            selinux_set("SELINUX=ENFORCING\r\nSELINUX=enforcing\r\n", NP_SELINUX_PERMISSIVE, &out),
            1);
        ASSERT_STREQ(out, "SELINUX=permissive\r\nSELINUX=enforcing\r\n");
        out = mfree(out);

        ASSERT_EQ(selinux_set("SELINUX=enforcing", NP_SELINUX_PERMISSIVE, &out), 1);
        ASSERT_STREQ(out, "SELINUX=permissive");
        out = mfree(out);

        /* No recognised line: after the one libselinux does not understand ... */
        ASSERT_EQ(selinux_set("SELINUX=\"enforcing\"\nSELINUXTYPE=targeted\n",
                              NP_SELINUX_PERMISSIVE, &out),
                  1);
        ASSERT_STREQ(out, "SELINUX=\"enforcing\"\nSELINUX=permissive\nSELINUXTYPE=targeted\n");
        out = mfree(out);
        ASSERT_EQ(selinux_set("SELINUX=bogus", NP_SELINUX_PERMISSIVE, &out), 1);
        ASSERT_STREQ(out, "SELINUX=bogus\nSELINUX=permissive\n");
        out = mfree(out);

        /* ... else at the end. */
        ASSERT_EQ(selinux_set("SELINUXTYPE=targeted", NP_SELINUX_PERMISSIVE, &out), 1);
        ASSERT_STREQ(out, "SELINUXTYPE=targeted\n# set by nodeprep\nSELINUX=permissive\n");
}

static int modules_add(const char *in, const char *module, char **out)
{
        _cleanup_free_ char *error = NULL;
        size_t n;

        return np_modules_load_conf_add(in, in ? strlen(in) : 0, module, out, &n, &error);
}

TEST(modules_load_conf)
{
        _cleanup_free_ char *out = NULL, *error = NULL;
        size_t n;

        ASSERT_EQ(modules_add(NULL, "iscsi_tcp", &out), 1);
        ASSERT_TRUE(startswith(out, "# Kernel modules loaded at boot"));
        ASSERT_TRUE(endswith(out, "\n# name per line. nodeprepctl rollback removes what it "
                                  "added.\niscsi_tcp\n"));
        out = mfree(out);

        ASSERT_EQ(modules_add("dm_mod\n", "iscsi_tcp", &out), 1);
        ASSERT_STREQ(out, "dm_mod\niscsi_tcp\n");
        out = mfree(out);
        ASSERT_EQ(modules_add("dm_mod", "iscsi_tcp", &out), 1);
        ASSERT_STREQ(out, "dm_mod\niscsi_tcp\n");
        out = mfree(out);
        ASSERT_EQ(modules_add("dm_mod\r\n", "iscsi_tcp", &out), 1);
        ASSERT_STREQ(out, "dm_mod\r\niscsi_tcp\r\n");
        out = mfree(out);

        /* systemd strips white space: already listed. */
        ASSERT_EQ(modules_add("  iscsi_tcp \r\n", "iscsi_tcp", &out), 0);
        ASSERT_STREQ(out, "  iscsi_tcp \r\n");
        out = mfree(out);

        /* "iscsi_tcp # x" is the module "iscsi_tcp # x" to systemd: not listed. */
        ASSERT_EQ(modules_add("iscsi_tcp # x\n", "iscsi_tcp", &out), 1);
        ASSERT_STREQ(out, "iscsi_tcp # x\niscsi_tcp\n");
        out = mfree(out);

        ASSERT_EQ(np_modules_load_conf_add(NULL, 0, "bad name", &out, &n, &error), -EINVAL);
}

static const TestCase tests[] = {
        T(iscsid_conf_shipped_files),
        T(iscsid_conf_commented_out),
        T(iscsid_conf_rejected_and_active_lines),
        T(iscsid_conf_append),
        T(iscsid_conf_refusals),
        T(selinux_config_shipped_files),
        T(selinux_config_rules),
        T(modules_load_conf),
};

RUN_TESTS(tests)
