/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/selinux/config and enforcing= as libselinux 3.4 reads them. The corner cases are the
 * table in the research notes, checked against Debian 12's libselinux (selinux_getenforcemode()).
 */

#include "probe/selinux-config.h"
#include "test.h"

static NpSelinuxConfig parse(const char *text)
{
        NpSelinuxConfig c = {};

        ASSERT_OK(np_selinux_config_parse(text, strlen(text), &c));
        return c;
}

#define ASSERT_MODE(text, m)                       \
        do {                                       \
                NpSelinuxConfig _c_ = parse(text); \
                ASSERT_TRUE(_c_.set);              \
                ASSERT_EQ(_c_.mode, (m));          \
                np_selinux_config_done(&_c_);      \
        } while (0)

#define ASSERT_UNSET(text)                         \
        do {                                       \
                NpSelinuxConfig _c_ = parse(text); \
                ASSERT_TRUE(!_c_.set);             \
                np_selinux_config_done(&_c_);      \
        } while (0)

TEST(shipped_files)
{
        static const struct {
                const char *file;
                NpSelinuxMode mode;
                unsigned line;
        } files[] = {
                { "selinux/config.rhel9", NP_SELINUX_ENFORCING, 0 },
                { "selinux/config.fedora", NP_SELINUX_ENFORCING, 0 },
                { "selinux/config.debian", NP_SELINUX_PERMISSIVE, 6 },
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t size;
                _cleanup_free_ char *data = read_fixture(files[i].file, &size);
                NpSelinuxConfig c = {};

                ASSERT_OK(np_selinux_config_parse(data, size, &c));
                ASSERT_TRUE(c.set);
                ASSERT_EQ(c.mode, files[i].mode);
                if (files[i].line)
                        ASSERT_EQ(c.line, files[i].line);
                np_selinux_config_done(&c);
        }
}

TEST(key)
{
        ASSERT_MODE("SELINUX=enforcing\n", NP_SELINUX_ENFORCING);
        ASSERT_MODE("SELINUX=permissive\n", NP_SELINUX_PERMISSIVE);
        ASSERT_MODE("SELINUX=disabled\n", NP_SELINUX_DISABLED);
        /* Column 0, upper case, no space before '=' */
        ASSERT_UNSET("  SELINUX=enforcing\n");
        ASSERT_UNSET("SELINUX =enforcing\n");
        ASSERT_UNSET("selinux=enforcing\n");
        ASSERT_UNSET("#SELINUX=enforcing\n");
        /* SELINUXTYPE= is a different key */
        ASSERT_UNSET("SELINUXTYPE=targeted\n");
}

TEST(value)
{
        ASSERT_MODE("SELINUX=\t enforcing\n", NP_SELINUX_ENFORCING);
        ASSERT_MODE("SELINUX=ENFORCING\n", NP_SELINUX_ENFORCING);
        ASSERT_MODE("SELINUX=enforcing # keep\n", NP_SELINUX_ENFORCING);
        ASSERT_MODE("SELINUX=enforcingXYZ\n", NP_SELINUX_ENFORCING);
        ASSERT_MODE("SELINUX=permissive\r\n", NP_SELINUX_PERMISSIVE);
        ASSERT_MODE("SELINUX=permissive", NP_SELINUX_PERMISSIVE);
        ASSERT_UNSET("SELINUX=\"enforcing\"\n");
        ASSERT_UNSET("SELINUX='permissive'\n");
        ASSERT_UNSET("SELINUX=\n");
        ASSERT_UNSET("SELINUX=enforcin\n");
        ASSERT_UNSET("");
}

TEST(first_valid_wins)
{
        NpSelinuxConfig c;

        ASSERT_MODE("SELINUX=permissive\nSELINUX=enforcing\n", NP_SELINUX_PERMISSIVE);
        ASSERT_MODE("SELINUX=enforcin\nSELINUX=disabled\n", NP_SELINUX_DISABLED);

        c = parse("# comment\nSELINUX=bogus\n\nSELINUX=enforcing\n");
        ASSERT_TRUE(c.set);
        ASSERT_EQ(c.line, 4);
        ASSERT_EQ(c.ignored_line, 2);
        ASSERT_STREQ(c.ignored_value, "bogus");
        np_selinux_config_done(&c);
}

TEST(long_lines)
{
        /* A 4095-byte chunk boundary: the rest of a long line is tested as a line of its own. */
        char *text = malloc(8192);

        ASSERT_TRUE(text);
        memset(text, '#', 4095);
        strcpy(text + 4095, "SELINUX=enforcing\n");
        ASSERT_MODE(text, NP_SELINUX_ENFORCING);
        memset(text, '#', 4096);
        strcpy(text + 4096, "SELINUX=enforcing\n");
        ASSERT_UNSET(text);
        ASSERT_TRUE(np_selinux_config_has_long_line(text, strlen(text)));
        /* With 64 KiB pages (some arm64 and ppc64le kernels) the whole line is one comment. */
        memset(text, '#', 4095);
        strcpy(text + 4095, "SELINUX=enforcing\n");
        {
                NpSelinuxConfig c = {};

                ASSERT_OK(np_selinux_config_parse_page(text, strlen(text), 65536, &c));
                ASSERT_TRUE(!c.set);
                np_selinux_config_done(&c);
                ASSERT_OK(np_selinux_config_parse_page(text, strlen(text), 4096, &c));
                ASSERT_TRUE(c.set && c.mode == NP_SELINUX_ENFORCING);
                np_selinux_config_done(&c);
        }
        ASSERT_TRUE(!np_selinux_config_has_long_line("SELINUX=enforcing\n", 18));
        memset(text, '#', 4093);
        strcpy(text + 4093, "\nSELINUX=enforcing\n"); /* 4094 bytes with its newline */
        ASSERT_TRUE(!np_selinux_config_has_long_line(text, strlen(text)));
        free(text);
}

TEST(cmdline)
{
        const char *c;

        c = "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), -1);
        c = "root=/dev/sda1 enforcing=1 quiet\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), 1);
        c = "enforcing=0 security=selinux\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), 0);
        /* libselinux up to 3.9 looks at the first "enforcing=" only, and it must start a word;
         * 3.10 at the last word-initial one, with strtol(, 0), any non-zero enforcing. Where
         * they boot differently nodeprep cannot tell. */
        c = "xenforcing=1 enforcing=0\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), NP_SELINUX_CMDLINE_AMBIGUOUS);
        c = "enforcing=1 enforcing=0\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), NP_SELINUX_CMDLINE_AMBIGUOUS);
        c = "enforcing=-1\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), NP_SELINUX_CMDLINE_AMBIGUOUS);
        c = "enforcing=0x1\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), NP_SELINUX_CMDLINE_AMBIGUOUS);
        /* Both agree: */
        c = "enforcing=1 quiet enforcing=1\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), 1);
        c = "enforcing=2\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), 2);
        c = "xenforcing=1\n";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, strlen(c)), -1);
        c = "";
        ASSERT_EQ(np_selinux_cmdline_enforcing(c, 0), -1);
}

static const TestCase tests[] = { T(shipped_files),    T(key),        T(value),
                                  T(first_valid_wins), T(long_lines), T(cmdline) };
RUN_TESTS(tests)
