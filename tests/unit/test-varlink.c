/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Varlink message parsing and formatting, parameter dispatch, and time spans of [Daemon]. */

#include "test.h"
#include "util/parse.h"
#include "util/strv.h"
#include "varlink/protocol.h"

static int parse_call(const char *s, NpVarlinkCallMessage *m)
{
        _cleanup_free_ char *error = NULL;

        return np_varlink_parse_call(s, strlen(s), m, &error);
}

TEST(call_valid)
{
        NpVarlinkCallMessage m = {};

        ASSERT_OK(
            parse_call("{\"method\":\"io.nodeprep.GetReport\",\"parameters\":{\"facts\":true},"
                       "\"more\":true}",
                       &m));
        ASSERT_STREQ(m.method, "io.nodeprep.GetReport");
        ASSERT_EQ(m.flags, NP_VARLINK_CALL_MORE);
        ASSERT_TRUE(json_object_get_boolean(json_object_object_get(m.parameters, "facts")));
        np_varlink_call_message_done(&m);

        /* No parameters, null parameters, trailing whitespace, false flags. */
        ASSERT_OK(parse_call("{\"method\":\"a.b.C\"}", &m));
        ASSERT_TRUE(json_object_is_type(m.parameters, json_type_object));
        np_varlink_call_message_done(&m);
        ASSERT_OK(parse_call("{\"method\":\"a.b.C\",\"parameters\":null,\"oneway\":false} \n", &m));
        ASSERT_EQ(m.flags, 0);
        np_varlink_call_message_done(&m);
        ASSERT_OK(parse_call("{\"method\":\"a.b.C\",\"oneway\":true}", &m));
        ASSERT_EQ(m.flags, NP_VARLINK_CALL_ONEWAY);
        np_varlink_call_message_done(&m);
}

TEST(call_invalid)
{
        static const char *const bad[] = {
                "",
                "{",
                "[]",
                "\"x\"",
                "{}",
                "{\"method\":1}",
                "{\"method\":\"GetReport\"}",
                "{\"method\":\"io.nodeprep.getReport\"}",
                "{\"method\":\"io..nodeprep.GetReport\"}",
                "{\"method\":\"io.nodeprep.Get-Report\"}",
                "{\"method\":\"a.b.C\",\"parameters\":[]}",
                "{\"method\":\"a.b.C\",\"more\":\"yes\"}",
                "{\"method\":\"a.b.C\",\"more\":true,\"oneway\":true}",
                "{\"method\":\"a.b.C\",\"upgrade\":true}",
                "{\"method\":\"a.b.C\",\"extra\":1}",
                "{\"method\":\"a.b.C\"} x",
                "{\"method\":\"a.b.C\"}{}",
                "{\"method\":\"a.b.C\",\"parameters\":{\"s\":\"\xff\"}}",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                NpVarlinkCallMessage m = {};
                _cleanup_free_ char *error = NULL;

                if (np_varlink_parse_call(bad[i], strlen(bad[i]), &m, &error) != -EBADMSG) {
                        fprintf(stderr, "accepted: %s\n", bad[i]);
                        abort();
                }
                ASSERT_TRUE(error != NULL);
        }
}

TEST(reply)
{
        NpVarlinkReplyMessage m = {};
        _cleanup_free_ char *error = NULL, *msg = NULL;
        size_t size;
        const char *s;

        s = "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"a.b."
            "C\"}}";
        ASSERT_OK(np_varlink_parse_reply(s, strlen(s), &m, &error));
        ASSERT_STREQ(m.error, "org.varlink.service.MethodNotFound");
        ASSERT_TRUE(!m.continues);
        np_varlink_reply_message_done(&m);
        /* Unknown reply keys are ignored (forward compatibility). */
        s = "{\"parameters\":{},\"continues\":true,\"future\":1}";
        ASSERT_OK(np_varlink_parse_reply(s, strlen(s), &m, &error));
        ASSERT_TRUE(m.continues && !m.error);
        np_varlink_reply_message_done(&m);
        s = "{\"error\":\"a.b.E\",\"continues\":true}";
        ASSERT_EQ(np_varlink_parse_reply(s, strlen(s), &m, &error), -EBADMSG);

        ASSERT_OK(np_varlink_format_reply_raw("{\"a\":1}", 7, true, &msg, &size));
        ASSERT_EQ(size, strlen(msg) + 1);
        ASSERT_STREQ(msg, "{\"parameters\":{\"a\":1},\"continues\":true}");
        free(msg);
        ASSERT_OK(np_varlink_format_reply_raw("{}", 2, false, &msg, &size));
        ASSERT_STREQ(msg, "{\"parameters\":{}}");
        free(msg);
        ASSERT_OK(np_varlink_format_reply(NULL, "a.b.E", false, &msg, &size));
        ASSERT_STREQ(msg, "{\"error\":\"a.b.E\",\"parameters\":{}}");
        free(msg);
        msg = NULL;
        ASSERT_OK(np_varlink_format_call("a.b.C", NULL, NP_VARLINK_CALL_MORE, &msg, &size));
        ASSERT_STREQ(msg, "{\"method\":\"a.b.C\",\"parameters\":{},\"more\":true}");
        ASSERT_EQ(msg[size - 1], '\0');
}

TEST(names)
{
        ASSERT_TRUE(np_varlink_interface_name_valid("io.nodeprep"));
        ASSERT_TRUE(np_varlink_interface_name_valid("org.varlink.service"));
        ASSERT_TRUE(np_varlink_interface_name_valid("io.system-d.x1"));
        ASSERT_TRUE(!np_varlink_interface_name_valid("nodeprep"));
        ASSERT_TRUE(!np_varlink_interface_name_valid("io.-x"));
        ASSERT_TRUE(!np_varlink_interface_name_valid("io.x-"));
        ASSERT_TRUE(!np_varlink_interface_name_valid("1o.x"));
        ASSERT_TRUE(!np_varlink_interface_name_valid("io.x."));
        ASSERT_TRUE(np_varlink_method_name_valid("io.nodeprep.GetReport"));
        ASSERT_TRUE(!np_varlink_method_name_valid("io.nodeprep.getReport"));
        ASSERT_TRUE(!np_varlink_method_name_valid("io.nodeprep."));
        ASSERT_TRUE(!np_varlink_method_name_valid("GetReport"));
}

typedef struct Params {
        char **profiles;
        bool facts;
        const char *name;
} Params;

TEST(dispatch)
{
        static const NpVarlinkField fields[] = {
                { "profiles", NP_VARLINK_STRV, offsetof(Params, profiles), false },
                { "facts", NP_VARLINK_BOOL, offsetof(Params, facts), false },
                { "name", NP_VARLINK_STRING, offsetof(Params, name), true },
        };
        json_object *o;
        const char *bad = NULL;
        Params p = {};

        o = json_tokener_parse("{\"profiles\":[\"a\",\"b\"],\"facts\":true,\"name\":\"x\"}");
        ASSERT_OK(np_varlink_dispatch(o, fields, ELEMENTSOF(fields), &p, &bad));
        ASSERT_EQ(strv_length(p.profiles), 2);
        ASSERT_TRUE(p.facts);
        ASSERT_STREQ(p.name, "x");
        strv_free(p.profiles);
        json_object_put(o);

        p = (Params){};
        o = json_tokener_parse("{\"profiles\":null,\"name\":\"x\"}");
        ASSERT_OK(np_varlink_dispatch(o, fields, ELEMENTSOF(fields), &p, &bad));
        ASSERT_NULL(p.profiles);
        json_object_put(o);

        for (const char *const *s =
                 (const char *const[]){ "{\"name\":\"x\",\"extra\":1}", "{\"name\":1}",
                                        "{\"profiles\":[1],\"name\":\"x\"}", "{\"facts\":true}",
                                        NULL };
             *s; s++) {
                o = json_tokener_parse(*s);
                p = (Params){};
                bad = NULL;
                ASSERT_EQ(np_varlink_dispatch(o, fields, ELEMENTSOF(fields), &p, &bad), -EINVAL);
                ASSERT_TRUE(bad != NULL);
                strv_free(p.profiles);
                json_object_put(o);
        }
}

TEST(timespan)
{
        uint64_t u;

        ASSERT_OK(np_parse_timespan("90", &u));
        ASSERT_EQ(u, 90000000ULL);
        ASSERT_OK(np_parse_timespan("1h", &u));
        ASSERT_EQ(u, 3600000000ULL);
        ASSERT_OK(np_parse_timespan("1h 30min", &u));
        ASSERT_EQ(u, 5400000000ULL);
        ASSERT_OK(np_parse_timespan("500ms", &u));
        ASSERT_EQ(u, 500000ULL);
        ASSERT_OK(np_parse_timespan("2d", &u));
        ASSERT_EQ(u, 172800000000ULL);
        ASSERT_OK(np_parse_timespan("0", &u));
        ASSERT_EQ(u, 0);
        ASSERT_OK(np_parse_timespan("infinity", &u));
        ASSERT_EQ(u, (long long)UINT64_MAX);
        ASSERT_EQ(np_parse_timespan("", &u), -EINVAL);
        ASSERT_EQ(np_parse_timespan("soon", &u), -EINVAL);
        ASSERT_EQ(np_parse_timespan("5 parsecs", &u), -EINVAL);
        ASSERT_EQ(np_parse_timespan("-1s", &u), -EINVAL);
        ASSERT_EQ(np_parse_timespan("99999999999999999999w", &u), -ERANGE);
}

static const TestCase tests[] = {
        T(call_valid), T(call_invalid), T(reply), T(names), T(dispatch), T(timespan),
};

RUN_TESTS(tests)
