#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

Test(buf, init_is_empty_without_allocation)
{
	struct buf b;

	buf_init(&b, 100);
	cr_assert_null(b.data);
	cr_assert_eq(b.len, 0);
	cr_assert_eq(b.max, 100);
	cr_assert(!b.failed);
	buf_free(&b);
}

Test(buf, append_is_nul_terminated)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append(&b, "hello", 5);
	buf_append_str(&b, ", world");
	cr_assert(!b.failed);
	cr_assert_eq(b.len, 12);
	cr_assert_str_eq(b.data, "hello, world");
	buf_free(&b);
}

Test(buf, empty_append_allocates_empty_string)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append(&b, NULL, 0);
	cr_assert(!b.failed);
	cr_assert_not_null(b.data);
	cr_assert_str_eq(b.data, "");
	buf_free(&b);
}

Test(buf, append_exactly_max_fits)
{
	struct buf b;
	char data[64];

	memset(data, 'x', sizeof(data));
	buf_init(&b, sizeof(data));
	buf_append(&b, data, sizeof(data) - 1);
	buf_append(&b, "y", 1);
	cr_assert(!b.failed);
	cr_assert_eq(b.len, sizeof(data));
	cr_assert_eq(b.data[sizeof(data) - 1], 'y');
	cr_assert_eq(b.data[sizeof(data)], '\0');
	buf_free(&b);
}

Test(buf, append_past_max_fails_and_keeps_content)
{
	struct buf b;

	buf_init(&b, 8);
	buf_append_str(&b, "1234567");
	buf_append_str(&b, "89");
	cr_assert(b.failed);
	cr_assert_eq(b.len, 7);
	cr_assert_str_eq(b.data, "1234567");
	buf_free(&b);
}

Test(buf, failure_is_sticky_until_reset)
{
	struct buf b;

	buf_init(&b, 4);
	buf_append_str(&b, "ab");
	buf_append_str(&b, "cdef");
	cr_assert(b.failed);
	/* This would fit, but a hole in the middle must not go unnoticed. */
	buf_append_str(&b, "c");
	buf_printf(&b, "%d", 1);
	cr_assert(b.failed);
	cr_assert_str_eq(b.data, "ab");

	buf_reset(&b);
	cr_assert(!b.failed);
	cr_assert_eq(b.len, 0);
	buf_append_str(&b, "abcd");
	cr_assert(!b.failed);
	cr_assert_str_eq(b.data, "abcd");
	buf_free(&b);
}

Test(buf, reset_keeps_allocation)
{
	struct buf b;
	char *before;

	buf_init(&b, 1000);
	buf_append_str(&b, "some content");
	before = b.data;
	buf_reset(&b);
	cr_assert_eq(b.data, before);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.data, "");
	buf_free(&b);
}

Test(buf, max_zero_takes_only_empty_appends)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append(&b, "", 0);
	cr_assert(!b.failed);
	buf_append(&b, "x", 1);
	cr_assert(b.failed);
	cr_assert_eq(b.len, 0);
	buf_free(&b);
}

Test(buf, huge_length_fails_without_overflow)
{
	struct buf b;

	buf_init(&b, SIZE_MAX);
	buf_append_str(&b, "ab");
	/* len + SIZE_MAX wraps; must be refused before any copy. */
	buf_append(&b, "x", SIZE_MAX);
	cr_assert(b.failed);
	cr_assert_eq(b.len, 2);
	cr_assert_str_eq(b.data, "ab");
	buf_free(&b);
}

Test(buf, grows_over_many_appends)
{
	struct buf b;
	size_t i;

	buf_init(&b, 100000);
	for (i = 0; i < 100000; i++) {
		char c = (char)('a' + i % 26);

		buf_append(&b, &c, 1);
	}
	cr_assert(!b.failed);
	cr_assert_eq(b.len, 100000);
	cr_assert_leq(b.cap, 100001, "never allocates past max + 1");
	for (i = 0; i < 100000; i++)
		cr_assert_eq(b.data[i], (char)('a' + i % 26), "byte %zu", i);
	cr_assert_eq(b.data[100000], '\0');
	buf_free(&b);
}

Test(buf, keeps_nul_bytes)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append(&b, "a\0b", 3);
	cr_assert_eq(b.len, 3);
	cr_assert_eq(memcmp(b.data, "a\0b", 4), 0);
	buf_free(&b);
}

Test(buf, printf_formats_and_appends)
{
	struct buf b;

	buf_init(&b, 100);
	buf_append_str(&b, "x=");
	buf_printf(&b, "%d, s=%s, z=%zu", -42, "str", (size_t)7);
	cr_assert(!b.failed);
	cr_assert_str_eq(b.data, "x=-42, s=str, z=7");
	cr_assert_eq(b.len, strlen("x=-42, s=str, z=7"));
	buf_free(&b);
}

Test(buf, printf_exactly_max_fits)
{
	struct buf b;

	buf_init(&b, 6);
	buf_append_str(&b, "ab");
	buf_printf(&b, "%04d", 12);
	cr_assert(!b.failed);
	cr_assert_str_eq(b.data, "ab0012");
	buf_free(&b);
}

Test(buf, printf_too_long_keeps_content)
{
	struct buf b;

	buf_init(&b, 6);
	buf_append_str(&b, "ab");
	buf_printf(&b, "%05d", 12);
	cr_assert(b.failed);
	cr_assert_eq(b.len, 2);
	cr_assert_str_eq(b.data, "ab");
	buf_free(&b);
}

Test(buf, printf_on_fresh_buffer_grows)
{
	struct buf b;
	char expected[1001];

	memset(expected, 'q', 1000);
	expected[1000] = '\0';
	buf_init(&b, 2000);
	buf_printf(&b, "%s", expected);
	cr_assert(!b.failed);
	cr_assert_str_eq(b.data, expected);
	buf_free(&b);
}

Test(buf, free_allows_reuse)
{
	struct buf b;

	buf_init(&b, 10);
	buf_append_str(&b, "0123456789x");
	cr_assert(b.failed);
	buf_free(&b);
	cr_assert_null(b.data);
	cr_assert(!b.failed);
	cr_assert_eq(b.max, 10);
	buf_append_str(&b, "ok");
	cr_assert_str_eq(b.data, "ok");
	buf_free(&b);
}

Test(buf, append_uint_writes_decimal)
{
	static const struct {
		unsigned long long value;
		const char *text;
	} cases[] = {
		{0, "0"}, {7, "7"}, {10, "10"}, {200, "200"}, {4096, "4096"},
		{18446744073709551615ULL, "18446744073709551615"},
	};
	struct buf b;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&b, 64);
		buf_append_str(&b, "n=");
		buf_append_uint(&b, cases[i].value);
		cr_expect(strncmp(b.data, "n=", 2) == 0 &&
			  strcmp(b.data + 2, cases[i].text) == 0,
			  "%llu: %s", cases[i].value, b.data);
		buf_free(&b);
	}
	buf_init(&b, 3);
	buf_append_uint(&b, 1234);
	cr_expect(b.failed, "a number past max fails like any append");
	buf_free(&b);
}
