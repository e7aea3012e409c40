/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Atomic replacement keeps mode, owner, POSIX ACL and SELinux label; symlinks are refused;
 * nothing is left behind. The journal survives a torn last line. Needs root for chown and
 * security.* xattrs; those parts are skipped (with a note) otherwise.
 */

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fix/file-edit.h"
#include "fix/journal.h"
#include "test.h"
#include "util/strv.h"

static char *tmp_root(void)
{
        char tmpl[] = "/tmp/np-test-edit-XXXXXX";

        ASSERT_TRUE(mkdtemp(tmpl));
        return strdup(tmpl);
}

static void rm_rf(const char *dir)
{
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", dir);

        ASSERT_EQ(system(cmd), 0);
}

static char *xattr_of(const char *path, const char *name)
{
        char buf[256];
        ssize_t n = getxattr(path, name, buf, sizeof(buf) - 1);

        return n < 0 ? NULL : strndup(buf, (size_t)n);
}

static size_t count_entries(const char *dir)
{
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_strv_free_ char **l = NULL;

        ASSERT_OK(np_root_new(dir, &root));
        ASSERT_OK(np_root_list_dir(root, "/", &l));
        return strv_length(l);
}

TEST(atomic_write_keeps_metadata)
{
        _cleanup_free_ char *dir = tmp_root(), *path = NULL, *acl = NULL, *label2 = NULL,
                            *acl2 = NULL, *error = NULL, *setfacl = NULL, *data = NULL;
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        bool privileged = geteuid() == 0;
        struct stat st;
        FILE *f;

        path = strprintf("%s/iscsid.conf", dir);
        f = fopen(path, "w");
        ASSERT_TRUE(f);
        fputs("node.startup = automatic\n", f);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_EQ(chmod(path, 0640), 0);
        if (privileged) {
                ASSERT_EQ(chown(path, 65534, 65534), 0);
                ASSERT_EQ(setxattr(path, "security.selinux", "system_u:object_r:etc_t:s0", 26, 0),
                          0);
                setfacl = strprintf("setfacl -m u:daemon:r '%s' 2>/dev/null", path);
                (void)!system(setfacl); /* checked below when the ACL is there */
        } else
                printf("# not root: owner, label and ACL copies not exercised\n");
        acl = xattr_of(path, "system.posix_acl_access");
        ASSERT_OK(stat(path, &st) < 0 ? -errno : 0);
        mode_t mode = st.st_mode;

        ASSERT_OK(np_root_new(dir, &root));
        ASSERT_OK(np_file_write_atomic(root, "/iscsid.conf", "node.startup = manual\n", 22, 0644, 0,
                                       0, ".iscsid.conf.nodeprep-test", &error));
        ASSERT_OK(np_root_read_file(root, "/iscsid.conf", 1024, &data, NULL));
        ASSERT_STREQ(data, "node.startup = manual\n");
        ASSERT_EQ(stat(path, &st), 0);
        ASSERT_EQ(st.st_mode, mode);
        if (privileged) {
                ASSERT_EQ(st.st_uid, 65534);
                ASSERT_EQ(st.st_gid, 65534);
                label2 = xattr_of(path, "security.selinux");
                ASSERT_STREQ(label2, "system_u:object_r:etc_t:s0");
                if (acl) {
                        acl2 = xattr_of(path, "system.posix_acl_access");
                        ASSERT_TRUE(acl2 && strlen(acl2) == strlen(acl) &&
                                    memcmp(acl, acl2, strlen(acl)) == 0);
                } else
                        printf("# setfacl not available: ACL copy not exercised\n");
        }
        /* Only the file itself: no temporary file left. */
        ASSERT_EQ(count_entries(dir), 1);
        rm_rf(dir);
}

TEST(atomic_write_new_file_and_refusals)
{
        _cleanup_free_ char *dir = tmp_root(), *link = NULL, *error = NULL, *error2 = NULL,
                            *sub = NULL;
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_file_state_done) NpFileState s = {};
        struct stat st;

        ASSERT_OK(np_root_new(dir, &root));
        ASSERT_OK(np_mkdir_p_in_root(root, "/etc/modules-load.d", 0755));
        ASSERT_OK(np_file_write_atomic(root, "/etc/modules-load.d/nodeprep.conf", "iscsi_tcp\n", 10,
                                       0644, getuid(), getgid(), ".nodeprep.conf.t", &error));
        ASSERT_OK(np_root_stat(root, "/etc/modules-load.d/nodeprep.conf", &st));
        ASSERT_EQ(st.st_mode & 07777, 0644);

        /* A /dev/null mask is the administrator's: refused, left as it is. */
        link = strprintf("%s/etc/modules-load.d/other.conf", dir);
        ASSERT_EQ(symlink("/dev/null", link), 0);
        ASSERT_EQ(np_file_write_atomic(root, "/etc/modules-load.d/other.conf", "x\n", 2, 0644, 0, 0,
                                       ".other.conf.t", &error2),
                  -EMEDIUMTYPE);
        ASSERT_CONTAINS(error2, "is not a regular file");
        ASSERT_OK(np_file_state_read(root, "/etc/modules-load.d/other.conf", 1024, &s));
        ASSERT_TRUE(s.exists && S_ISLNK(s.mode));
        ASSERT_STREQ(s.link, "/dev/null");
        sub = strprintf("%s/etc/modules-load.d", dir);
        ASSERT_EQ(count_entries(sub), 2);

        /* A missing file reads as absent; a missing directory is an error. */
        np_file_state_done(&s);
        ASSERT_OK(np_file_state_read(root, "/etc/modules-load.d/none.conf", 1024, &s));
        ASSERT_TRUE(!s.exists);
        ASSERT_EQ(np_file_state_read(root, "/etc/none/x.conf", 1024, &s), -ENOENT);
        rm_rf(dir);
}

TEST(journal)
{
        _cleanup_free_ char *dir = tmp_root(), *id = np_change_id_new(1700000000123456ULL),
                            *error = NULL, *saved = NULL, *jpath = NULL;
        _cleanup_(np_root_freep) NpRoot *root = NULL;
        _cleanup_(np_journal_freep) NpJournal *j = NULL;
        _cleanup_(np_change_freep) NpChange *c = NULL, *c2 = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        json_object *h = json_tokener_parse("{\"type\":\"change\"}"),
                    *rec = json_tokener_parse("{\"type\":\"step\",\"n\":1,\"state\":\"begin\"}"),
                    *done = json_tokener_parse("{\"type\":\"complete\"}");
        size_t n;
        int fd;

        ASSERT_TRUE(startswith(id, "20231114T221320.123456Z-") && strlen(id) == 32);
        ASSERT_TRUE(np_change_id_valid(id));
        ASSERT_TRUE(!np_change_id_valid("../etc"));
        ASSERT_TRUE(!np_change_id_valid(".lock"));

        ASSERT_OK(np_root_new(dir, &root));
        ASSERT_OK(np_journal_create(root, id, h, &j));
        ASSERT_OK(np_journal_append(j, rec));
        ASSERT_OK(np_journal_save(j, "1.old", "old bytes\n", 10, &error));
        ASSERT_OK(np_changes_list(root, &ids));
        ASSERT_EQ(strv_length(ids), 1);
        ASSERT_STREQ(ids[0], id);

        /* Killed while writing a record: the torn line is ignored ... */
        jpath = strprintf("%s/var/lib/nodeprep/backup/%s/journal", dir, id);
        fd = open(jpath, O_WRONLY | O_APPEND);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "{\"type\":\"st", 11), 11);
        close(fd);
        ASSERT_OK(np_change_load(root, id, &c));
        ASSERT_EQ(c->n_records, 2);
        ASSERT_TRUE(c->torn && !c->complete && !c->rolled_back);
        ASSERT_OK(np_change_read_file(root, c, "1.old", &saved, &n));
        ASSERT_EQ(n, 10);
        ASSERT_EQ(np_change_read_file(root, c, "../journal", &saved, &n), -EINVAL);
        /* ... and a record appended later starts on a line of its own. */
        ASSERT_OK(np_change_append(root, c, done));
        ASSERT_OK(np_change_load(root, id, &c2));
        ASSERT_EQ(c2->n_records, 3);
        ASSERT_TRUE(c2->complete && c2->torn && !c2->unterminated);

        json_object_put(h);
        json_object_put(rec);
        json_object_put(done);
        rm_rf(dir);
}

static const TestCase tests[] = {
        T(atomic_write_keeps_metadata),
        T(atomic_write_new_file_and_refusals),
        T(journal),
};

RUN_TESTS(tests)
