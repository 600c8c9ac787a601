#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "redirect.h"
#include "unit.h"

static const struct bool_case redirect_cases[] = {
	{ S("/"), true },
	{ S("/ok"), true },
	{ S("/ok?x=1#y"), true },
	{ S("/a/b/c.html"), true },
	{ S("/a//b"), true },
	{ S("/a\\b"), true },
	{ S("/%2F%2Fevil.example"), true },
	{ S("/%5Cevil.example"), true },
	{ S("/javascript:alert(1)"), true },
	{ S("/?next=https://x"), true },
	{ S("/~user/!$&'()*+,;=:@"), true },
	{ S(""), false },
	{ S("relative"), false },
	{ S("relative/path"), false },
	{ S("./x"), false },
	{ S("../x"), false },
	{ S("?x=1"), false },
	{ S("#frag"), false },
	{ S("//evil"), false },
	{ S("//evil.example/path"), false },
	{ S("///evil"), false },
	{ S("/\\evil"), false },
	{ S("/\\/evil"), false },
	{ S("\\\\evil"), false },
	{ S("\\/evil"), false },
	{ S("https://x"), false },
	{ S("http:/x"), false },
	{ S("HTTPS://evil"), false },
	{ S("javascript:alert(1)"), false },
	{ S("data:text/html,<script>"), false },
	{ S("/\t/evil"), false },
	{ S("/\n/evil"), false },
	{ S("/\r/evil"), false },
	{ S("/ok\r\nSet-Cookie: x=1"), false },
	{ S("/ok\0"), false },
	{ S("/ok\0evil"), false },
	{ S("\0/ok"), false },
	{ S("\x01/ok"), false },
	{ S(" /ok"), false },
	{ S("/ok "), false },
	{ S("/a b"), false },
	{ S("/ok\x7f"), false },
	{ S("/caf\xc3\xa9"), false },
	{ S("/\xe3\x80\x80/evil"), false },
	{ S("/\x80"), false },
	{ S("/\xff"), false },
};

Test(redirect, table)
{
	check_bool_cases(redirect_is_local, redirect_cases,
			 AG_ARRAY_LEN(redirect_cases));
}

static char *long_path(size_t len)
{
	char *p = malloc(len);

	cr_assert_not_null(p);
	memset(p, 'a', len);
	p[0] = '/';
	return p;
}

Test(redirect, exactly_max_len_is_local)
{
	char *p = long_path(REDIRECT_MAX_LEN);

	cr_assert(redirect_is_local(p, REDIRECT_MAX_LEN));
	free(p);
}

Test(redirect, max_len_minus_one_is_local)
{
	char *p = long_path(REDIRECT_MAX_LEN - 1);

	cr_assert(redirect_is_local(p, REDIRECT_MAX_LEN - 1));
	free(p);
}

Test(redirect, max_len_plus_one_is_refused)
{
	char *p = long_path(REDIRECT_MAX_LEN + 1);

	cr_assert_not(redirect_is_local(p, REDIRECT_MAX_LEN + 1));
	free(p);
}

Test(redirect, very_long_is_refused)
{
	char *p = long_path(1000000);

	cr_assert_not(redirect_is_local(p, 1000000));
	free(p);
}

Test(redirect, only_len_bytes_are_read)
{
	/* "/" followed by "/evil" outside len: the target is just "/". */
	char *t = dup_exact("//evil", 6);

	cr_assert(redirect_is_local(t, 1));
	cr_assert_not(redirect_is_local(t, 6));
	free(t);
}

Test(redirect, every_control_byte_is_refused)
{
	unsigned c;

	for (c = 0; c < 0x20; c++) {
		char t[3] = { '/', (char)c, 'x' };

		cr_assert_not(redirect_is_local(t, sizeof(t)), "byte %#x", c);
	}
	{
		char t[3] = { '/', 'x', 0x7f };

		cr_assert_not(redirect_is_local(t, sizeof(t)));
	}
}
