/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iscsid.conf and node records, read as open-iscsi's idbm_recinfo_config() reads them. The corner
 * cases were checked against Debian 12's iscsiadm 2.1.8 (see tests/fixtures/iscsi/SOURCES.md).
 */

#include "probe/iscsid-conf.h"
#include "test.h"
#include "util/strv.h"

static NpIscsiRecord parse(const char *text)
{
        NpIscsiRecord rec = {};

        ASSERT_OK(np_iscsi_record_parse(text, strlen(text), &rec));
        return rec;
}

static const char *value(const NpIscsiRecord *rec, const char *key)
{
        const NpKeyValue *kv = np_key_values_get(rec->settings, rec->n_settings, key);

        return kv ? kv->value : NULL;
}

static bool has_problem(const NpIscsiRecord *rec, unsigned line, const char *needle)
{
        FOREACH_ARRAY (p, rec->problems, rec->n_problems)
                if (p->line == line && strstr(p->problem, needle))
                        return true;
        return false;
}

TEST(shipped_files)
{
        static const struct {
                const char *file, *startup;
        } files[] = {
                { "iscsi/iscsid.conf.debian12", "manual" },
                { "iscsi/iscsid.conf.rhel9", "automatic" },
                { "iscsi/iscsid.conf.rhel9.0", "automatic" },
                { "iscsi/iscsid.conf.opensuse", "manual" },
                { "iscsi/iscsid.conf.upstream", "manual" },
        };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t size;
                _cleanup_free_ char *data = read_fixture(files[i].file, &size);
                NpIscsiRecord rec = {};

                ASSERT_OK(np_iscsi_record_parse(data, size, &rec));
                ASSERT_STREQ(value(&rec, NP_ISCSI_KEY_STARTUP), files[i].startup);
                ASSERT_STREQ(value(&rec, NP_ISCSI_KEY_MRDSL), "262144");
                /* Shipped files are clean: nothing iscsid would reject. */
                ASSERT_EQ(rec.n_problems, 0);
                np_iscsi_record_done(&rec);
        }
}

TEST(node_records)
{
        size_t size;
        _cleanup_free_ char *a = read_fixture("iscsi/node.debian12.automatic", &size);
        NpIscsiRecord rec = {};

        ASSERT_OK(np_iscsi_record_parse(a, size, &rec));
        ASSERT_STREQ(value(&rec, "node.startup"), "automatic");
        /* iscsid.conf's node.startup does not touch the connection's startup key. */
        ASSERT_STREQ(value(&rec, "node.conn[0].startup"), "manual");
        ASSERT_STREQ(value(&rec, "node.name"),
                     "iqn.2003-01.org.linux-iscsi.target.x8664:sn.0123456789ab");
        np_iscsi_record_done(&rec);
}

TEST(separators)
{
        NpIscsiRecord rec;

        /* "k=v" and "k= v" are rejected: iscsid skips one character after the key. */
        rec = parse("node.startup = automatic\nnode.startup=manual\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "automatic");
        ASSERT_TRUE(has_problem(&rec, 2, "white space before '='"));
        np_iscsi_record_done(&rec);

        rec = parse("node.startup = automatic\nnode.startup= manual\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "automatic");
        np_iscsi_record_done(&rec);

        rec = parse("node.startup =manual\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "manual");
        np_iscsi_record_done(&rec);

        rec = parse("node.startup==manual\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "manual");
        np_iscsi_record_done(&rec);

        rec = parse("   node.startup\t=\tmanual   \t\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "manual");
        np_iscsi_record_done(&rec);

        /* A line without a key is ignored (found by fuzz-iscsid-conf). */
        rec = parse("= automatic\n==x0\n");
        ASSERT_EQ(rec.n_settings, 0);
        ASSERT_TRUE(has_problem(&rec, 1, "no key"));
        np_iscsi_record_done(&rec);

        rec = parse("node.startup manual\nnode.startup =\nnode.startup\n");
        ASSERT_NULL(value(&rec, "node.startup"));
        ASSERT_TRUE(has_problem(&rec, 1, "white space before"));
        ASSERT_TRUE(has_problem(&rec, 2, "no value"));
        ASSERT_TRUE(has_problem(&rec, 3, "no value"));
        np_iscsi_record_done(&rec);
}

TEST(values)
{
        NpIscsiRecord rec;

        /* CRLF: '\r' is white space to strstrip(). */
        rec = parse("node.startup = manual\r\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "manual");
        np_iscsi_record_done(&rec);

        /* No inline comments, no quoting, case matters: all keep the previous value. */
        rec = parse("node.startup = automatic\n"
                    "node.startup = manual # IOMesh\n"
                    "node.startup = \"manual\"\n"
                    "node.startup = Manual\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "automatic");
        ASSERT_TRUE(has_problem(&rec, 2, "not one of"));
        ASSERT_TRUE(has_problem(&rec, 3, "not one of"));
        ASSERT_TRUE(has_problem(&rec, 4, "case matters"));
        np_iscsi_record_done(&rec);

        /* Comments only at the start; the last valid line wins. */
        rec = parse("# node.startup = automatic\n   # x\nnode.startup = automatic\n"
                    "node.startup = manual\n");
        ASSERT_STREQ(value(&rec, "node.startup"), "manual");
        ASSERT_EQ(np_key_values_get(rec.settings, rec.n_settings, "node.startup")->line, 4);
        np_iscsi_record_done(&rec);

        /* Keys are case-sensitive: an unknown key, stored but not node.startup. */
        rec = parse("Node.Startup = automatic\n");
        ASSERT_NULL(value(&rec, "node.startup"));
        np_iscsi_record_done(&rec);

        /* The session-level spelling IOMesh's page uses does not exist in open-iscsi. */
        rec = parse("node.session.iscsi.MaxRecvDataSegmentLength = 163840\n");
        ASSERT_NULL(value(&rec, "node.session.iscsi.MaxRecvDataSegmentLength"));
        ASSERT_TRUE(has_problem(&rec, 1, "not an open-iscsi setting"));
        np_iscsi_record_done(&rec);
}

TEST(lines)
{
        NpIscsiRecord rec;
        _cleanup_free_ char *longline = NULL, *longvalue = NULL;

        /* A last line without a newline is ignored by iscsid. */
        rec = parse("node.startup = automatic\nnode.startup = manual");
        ASSERT_STREQ(value(&rec, "node.startup"), "automatic");
        ASSERT_TRUE(has_problem(&rec, 2, "no newline"));
        np_iscsi_record_done(&rec);

        /* A line of 2047+ bytes: the first 2047 are dropped, the rest parsed as a line. */
        longline = malloc(2047 + 64);
        ASSERT_TRUE(longline);
        memset(longline, 'x', 2047);
        strcpy(longline + 2047, "node.startup = automatic\n");
        rec = parse(longline);
        ASSERT_STREQ(value(&rec, "node.startup"), "automatic");
        ASSERT_TRUE(has_problem(&rec, 1, "longer than 2047"));
        np_iscsi_record_done(&rec);

        /* Even a long comment loses its comment-ness that way. */
        longline[0] = '#';
        rec = parse(longline);
        ASSERT_STREQ(value(&rec, "node.startup"), "automatic");
        np_iscsi_record_done(&rec);

        /* A 300-character value: open-iscsi copies it into value[256] without a bound, so what
         * it does with the file is undefined: the record says so (the probe makes that unknown). */
        longvalue = malloc(400);
        ASSERT_TRUE(longvalue);
        strcpy(longvalue, "node.name = ");
        memset(longvalue + strlen(longvalue), 'q', 300);
        strcpy(longvalue + 12 + 300, "\n");
        rec = parse(longvalue);
        ASSERT_EQ(strlen(value(&rec, "node.name")), 255);
        ASSERT_TRUE(has_problem(&rec, 1, "longer than 255"));
        ASSERT_STREQ(rec.undefined, "line 1: a value longer than 255 characters overflows "
                                    "open-iscsi's parser");
        np_iscsi_record_done(&rec);
        /* A key of 128 characters or more: the same. */
        memset(longvalue, 'k', 130);
        strcpy(longvalue + 130, " = 1\nnode.startup = manual\n");
        rec = parse(longvalue);
        ASSERT_CONTAINS(rec.undefined, "line 1: a key longer than 127");
        np_iscsi_record_done(&rec);
        rec = parse("node.startup = manual\n");
        ASSERT_NULL(rec.undefined);
        np_iscsi_record_done(&rec);

        /* NUL bytes and binary garbage never crash and never set a value. */
        {
                const char bin[] = "node.startup = man\0ual\n\x01\x02\xff\n";
                NpIscsiRecord b = {};

                ASSERT_OK(np_iscsi_record_parse(bin, sizeof(bin) - 1, &b));
                ASSERT_NULL(value(&b, "node.startup"));
                ASSERT_TRUE(has_problem(&b, 1, "NUL"));
                np_iscsi_record_done(&b);
        }

        /* Empty input. */
        rec = parse("");
        ASSERT_EQ(rec.n_settings, 0);
        np_iscsi_record_done(&rec);
}

static const TestCase tests[] = { T(shipped_files), T(node_records), T(separators), T(values),
                                  T(lines) };
RUN_TESTS(tests)
