#include <criterion/criterion.h>
#include <string.h>

#include "config.h"
#include "pages.h"

static int check(const char *tmpl, char *err, size_t cap)
{
	return pages_check_login_template(tmpl, strlen(tmpl), err, cap);
}

Test(pages, template_check_accepts_known_placeholders)
{
	char err[128] = "";

	cr_assert_eq(check("<form>{{csrf_token}}{{next}}{{username}}{{message}}"
			   "{{app_name}}{{action}}{{register_hidden}}</form>",
			   err, sizeof(err)), 0, "%s", err);
	/* Lone braces are text. */
	cr_assert_eq(check("{ }} {{csrf_token}} }", err, sizeof(err)), 0, "%s",
		     err);
}

Test(pages, template_check_names_the_problem)
{
	static const struct {
		const char *tmpl, *err;
	} cases[] = {
		{"{{csrf_token}}{{passwrd}}", "unknown placeholder {{passwrd}}"},
		{"{{csrf_token}}{{Next}}", "malformed placeholder at byte 14"},
		{"{{csrf_token}}{{ next }}", "malformed placeholder at byte 14"},
		{"{{csrf_token}}{{next", "malformed placeholder at byte 14"},
		{"{{csrf_token}}{{}}", "malformed placeholder at byte 14"},
		{"<form>{{next}}</form>", "no {{csrf_token}}"},
		{"", "no {{csrf_token}}"},
	};
	char err[128];

	for (size_t i = 0; i < AG_ARRAY_LEN(cases); i++) {
		err[0] = '\0';
		cr_expect_eq(check(cases[i].tmpl, err, sizeof(err)), -1, "%zu", i);
		cr_expect(strstr(err, cases[i].err) != NULL, "%zu: %s", i, err);
	}
}

Test(pages, template_check_refuses_nul)
{
	char err[128] = "";

	cr_assert_eq(pages_check_login_template("{{csrf_token}}\0x", 16, err,
						sizeof(err)), -1);
	cr_assert_str_eq(err, "it contains a NUL byte");
}

static const struct login_page hostile_page = {
	.message = "<b>m</b>",
	.error = true,
	.username = "o'hare\"",
	.next = "/x\"><script>",
	.csrf_token = "tok&en",
};

Test(pages, custom_template_escapes_every_value)
{
	struct config cfg;
	struct response resp;
	char tmpl[] = "<h1>{{heading}}</h1><i>{{app_name}}</i>{{message}}|"
		      "{{username}}|{{next}}|{{csrf_token}}|{{register_hidden}}";

	config_defaults(&cfg);
	strcpy(cfg.app_name, "A&B <Co>");
	cfg.login_template_text = tmpl;
	response_init(&resp);
	pages_login(&resp, &cfg, &hostile_page);
	cr_assert_not(resp.failed);
	cr_assert_str_eq(resp.body.data,
			 "<h1>Sign in to A&amp;B &lt;Co&gt;</h1>"
			 "<i>A&amp;B &lt;Co&gt;</i>&lt;b&gt;m&lt;/b&gt;|"
			 "o&#39;hare&quot;|/x&quot;&gt;&lt;script&gt;|tok&amp;en|"
			 "hidden");
	response_free(&resp);
}

Test(pages, builtin_login_page_links_to_registration_when_on)
{
	struct config cfg;
	struct response resp;

	config_defaults(&cfg);
	response_init(&resp);
	pages_login(&resp, &cfg, &hostile_page);
	cr_assert_not_null(strstr(resp.body.data, "<h1>Sign in</h1>"));
	cr_assert_not_null(strstr(resp.body.data, "<p class=\"cancel\" hidden>"));
	response_free(&resp);

	cfg.allow_registration = true;
	response_init(&resp);
	pages_login(&resp, &cfg, &hostile_page);
	cr_assert_not_null(strstr(resp.body.data, "<p class=\"cancel\" >"
						  "<a href=\"/auth/register\">"));
	response_free(&resp);
}

Test(pages, account_pages_escape_what_was_typed)
{
	struct config cfg;
	struct response resp;
	const struct account_page page = {
		.message = "m<", .error = true, .username = "<u>",
		.email = "e\"@x", .next = "/n", .csrf_token = "t",
	};

	config_defaults(&cfg);
	response_init(&resp);
	pages_register(&resp, &cfg, &page);
	cr_assert_not_null(strstr(resp.body.data, "value=\"&lt;u&gt;\""));
	cr_assert_not_null(strstr(resp.body.data, "value=\"e&quot;@x\""));
	cr_assert_not_null(strstr(resp.body.data, "class=\"flash error\""));
	response_free(&resp);
	response_init(&resp);
	pages_password(&resp, &cfg, &page);
	cr_assert_not_null(strstr(resp.body.data, "<strong>&lt;u&gt;</strong>"));
	cr_assert_null(strstr(resp.body.data, "<u>"));
	response_free(&resp);
}
