#include <criterion/criterion.h>
#include <string.h>

#include "response.h"

static char *serialize(struct response *resp, struct buf *out)
{
	buf_init(out, 1 << 20);
	response_serialize(resp, out);
	cr_assert(!out->failed);
	return out->data;
}

Test(response, cookie_flags_session_and_persistent)
{
	struct response resp;
	struct buf out;
	struct cookie_spec session = {"__Host-authgate", true, -1};
	struct cookie_spec remember = {"authgate", false, 2592000};

	response_init(&resp);
	resp.status = 303;
	response_set_cookie(&resp, &session, "abc");
	response_set_cookie(&resp, &remember, "def");
	cr_assert(!resp.failed);
	serialize(&resp, &out);
	cr_assert(strstr(out.data, "Status: 303 See Other\r\n") == out.data);
	cr_assert_not_null(strstr(out.data,
		"Set-Cookie: __Host-authgate=abc; Path=/; HttpOnly; SameSite=Lax; Secure\r\n"));
	cr_assert_not_null(strstr(out.data,
		"Set-Cookie: authgate=def; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax\r\n"));
	cr_assert_null(strstr(out.data, "abc; Path=/; Max-Age"),
		       "no Max-Age without remember me");
	buf_free(&out);
	response_free(&resp);
}

Test(response, cookie_value_must_be_cookie_octets)
{
	static const char *const bad[] = {"a b", "a;b", "a\"b", "a,b", "a\\b",
					  "a\r\nSet-Cookie: x=y", "\x80"};
	struct cookie_spec spec = {"authgate", false, -1};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct response resp;

		response_init(&resp);
		response_set_cookie(&resp, &spec, bad[i]);
		cr_assert(resp.failed, "case %zu", i);
		response_free(&resp);
	}
}

Test(response, header_with_control_characters_fails)
{
	struct response resp;

	response_init(&resp);
	response_header(&resp, "X-Auth-User", "alice\r\nX-Auth-Roles: admin", 26);
	cr_assert(resp.failed);
	response_free(&resp);
}

Test(response, body_and_content_type)
{
	struct response resp;
	struct buf out;

	response_init(&resp);
	resp.status = 401;
	resp.content_type = "application/json";
	buf_append_str(&resp.body, "{}");
	serialize(&resp, &out);
	cr_assert_str_eq(out.data, "Status: 401 Unauthorized\r\n"
				   "Content-Type: application/json\r\n\r\n{}");
	buf_free(&out);
	response_free(&resp);
}

Test(response, page_headers_forbid_framing_and_caching)
{
	struct response resp;
	struct buf out;

	response_init(&resp);
	resp.status = 200;
	response_page_headers(&resp);
	serialize(&resp, &out);
	cr_assert_not_null(strstr(out.data, "X-Frame-Options: DENY\r\n"));
	cr_assert_not_null(strstr(out.data, "Cache-Control: no-store\r\n"));
	cr_assert_not_null(strstr(out.data, "frame-ancestors 'none'"));
	buf_free(&out);
	response_free(&resp);
}
