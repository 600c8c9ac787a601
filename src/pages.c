#include "pages.h"

#include <stdio.h>
#include <string.h>

#include "html.h"

/* Shared look: readable at phone width, no script, inline style only
 * (the Content-Security-Policy allows nothing else). */
#define PAGE_HEAD                                                             \
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n" \
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" \
	"<title>{{title}}</title>\n<style>\n"                                 \
	"body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;"  \
	"display:flex;min-height:100vh;align-items:center;justify-content:center}" \
	"main{box-sizing:border-box;background:#fff;padding:2rem;margin:1rem;" \
	"border-radius:8px;width:100%;max-width:24rem;"                        \
	"box-shadow:0 1px 4px rgba(0,0,0,.15)}"                               \
	"@media (max-width:30rem){body{align-items:flex-start;background:#fff}" \
	"main{margin:0;box-shadow:none;border-radius:0}}"                     \
	"h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .3rem}" \
	"input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;" \
	"padding:.6rem;font-size:1rem;border:1px solid #767676;border-radius:4px}" \
	":focus-visible{outline:2px solid #2456a6;outline-offset:1px}"        \
	"button{margin-top:1.2rem;width:100%;padding:.7rem;font-size:1rem;"   \
	"border:1px solid #2456a6;border-radius:4px;background:#2456a6;"      \
	"color:#fff;cursor:pointer}"                                          \
	"button.secondary{background:#fff;color:#2456a6;margin-top:.6rem}"    \
	".flash{background:#fff4d6;border:1px solid #e0b84c;padding:.6rem;"   \
	"border-radius:4px}.flash:empty{display:none}"                        \
	".flash.error{background:#fdecea;border-color:#d93025}"               \
	".remember{margin:.8rem 0 0;display:flex;align-items:center}"         \
	".remember input{width:1.1rem;height:1.1rem;margin:0 .4rem 0 0}"      \
	".remember label{display:inline;margin:0}"                            \
	".cancel{margin-top:1rem;text-align:center}\n"                        \
	"</style>\n</head>\n<body>\n<main>\n"

#define PAGE_TAIL "</main>\n</body>\n</html>\n"

static const char login_template[] =
	PAGE_HEAD
	"<h1>{{heading}}</h1>\n"
	"<p class=\"flash{{message_class}}\" role=\"{{message_role}}\">{{message}}</p>\n"
	"<form method=\"post\" action=\"{{action}}\">\n"
	"<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf_token}}\">\n"
	"<input type=\"hidden\" name=\"next\" value=\"{{next}}\">\n"
	"<input type=\"hidden\" name=\"reauth\" value=\"{{reauth}}\">\n"
	"<label for=\"username\">Username</label>\n"
	"<input type=\"text\" id=\"username\" name=\"username\" value=\"{{username}}\""
	" autocomplete=\"username\" autocapitalize=\"none\" required {{username_focus}}>\n"
	"<label for=\"password\">Password</label>\n"
	"<input type=\"password\" id=\"password\" name=\"password\""
	" autocomplete=\"current-password\" required {{password_focus}}>\n"
	"<p class=\"remember\"><input type=\"checkbox\" id=\"remember\" name=\"remember\""
	" value=\"on\"> <label for=\"remember\">Remember me</label></p>\n"
	"<button type=\"submit\">Sign in</button>\n"
	"</form>\n"
	"<p class=\"cancel\" {{register_hidden}}><a href=\"{{register_url}}\">"
	"Create an account</a></p>\n" PAGE_TAIL;

static const char password_template[] =
	PAGE_HEAD
	"<h1>Change password</h1>\n"
	"<p class=\"flash{{message_class}}\" role=\"{{message_role}}\">{{message}}</p>\n"
	"<p>Signed in as <strong>{{username}}</strong>.</p>\n"
	"<form method=\"post\" action=\"/auth/password\">\n"
	"<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf_token}}\">\n"
	"<label for=\"old_password\">Current password</label>\n"
	"<input type=\"password\" id=\"old_password\" name=\"old_password\""
	" autocomplete=\"current-password\" required autofocus>\n"
	"<label for=\"new_password\">New password (at least 8 characters)</label>\n"
	"<input type=\"password\" id=\"new_password\" name=\"new_password\""
	" autocomplete=\"new-password\" minlength=\"8\" required>\n"
	"<label for=\"new_password2\">New password again</label>\n"
	"<input type=\"password\" id=\"new_password2\" name=\"new_password2\""
	" autocomplete=\"new-password\" minlength=\"8\" required>\n"
	"<button type=\"submit\">Change password</button>\n"
	"</form>\n"
	"<p class=\"cancel\"><a href=\"/\">Cancel</a></p>\n" PAGE_TAIL;

static const char register_template[] =
	PAGE_HEAD
	"<h1>{{heading}}</h1>\n"
	"<p class=\"flash{{message_class}}\" role=\"{{message_role}}\">{{message}}</p>\n"
	"<form method=\"post\" action=\"/auth/register\">\n"
	"<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf_token}}\">\n"
	"<input type=\"hidden\" name=\"next\" value=\"{{next}}\">\n"
	"<label for=\"username\">Username</label>\n"
	"<input type=\"text\" id=\"username\" name=\"username\" value=\"{{username}}\""
	" autocomplete=\"username\" autocapitalize=\"none\" required autofocus>\n"
	"<label for=\"email\">Email</label>\n"
	"<input type=\"email\" id=\"email\" name=\"email\" value=\"{{email}}\""
	" autocomplete=\"email\" required>\n"
	"<label for=\"password\">Password (at least 8 characters)</label>\n"
	"<input type=\"password\" id=\"password\" name=\"password\""
	" autocomplete=\"new-password\" minlength=\"8\" required>\n"
	"<label for=\"password2\">Password again</label>\n"
	"<input type=\"password\" id=\"password2\" name=\"password2\""
	" autocomplete=\"new-password\" minlength=\"8\" required>\n"
	"<button type=\"submit\">Create account</button>\n"
	"</form>\n"
	"<p class=\"cancel\"><a href=\"/auth/login\">Sign in instead</a></p>\n"
	PAGE_TAIL;

static const char logout_template[] =
	PAGE_HEAD
	"<h1>Sign out</h1>\n"
	"<p>Signed in as <strong>{{username}}</strong>.</p>\n"
	"<form method=\"post\" action=\"/auth/logout\">\n"
	"<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf_token}}\">\n"
	"<button type=\"submit\">Sign out</button>\n"
	"</form>\n"
	"<form method=\"post\" action=\"/auth/logout\">\n"
	"<input type=\"hidden\" name=\"csrf_token\" value=\"{{csrf_token}}\">\n"
	"<input type=\"hidden\" name=\"all\" value=\"1\">\n"
	"<button type=\"submit\" class=\"secondary\">Sign out everywhere</button>\n"
	"</form>\n"
	"<p class=\"cancel\"><a href=\"/\">Cancel</a></p>\n" PAGE_TAIL;

static const char message_template[] =
	PAGE_HEAD "<h1>{{title}}</h1>\n<p>{{message}}</p>\n"
	"<p><a href=\"/auth/login\">Sign in</a></p>\n" PAGE_TAIL;

static void render(struct response *resp, const char *tmpl,
		   const struct html_var *vars, size_t nvars)
{
	resp->content_type = "text/html; charset=utf-8";
	response_page_headers(resp);
	if (html_render(&resp->body, tmpl, strlen(tmpl), vars, nvars) !=
	    PARSE_OK)
		resp->failed = true;
}

/* Placeholders a --login-template may use: those pages_login() fills. */
static const char *const login_placeholders[] = {
	"title", "heading", "app_name", "message", "message_class",
	"message_role", "username_focus", "password_focus", "csrf_token",
	"next", "reauth", "username", "action", "register_url",
	"register_hidden",
};

/* "Sign in" or "Sign in to NAME". */
static void heading(char *out, size_t cap, const char *what,
		    const struct config *cfg)
{
	if (cfg->app_name[0] != '\0')
		snprintf(out, cap, "%s to %s", what, cfg->app_name);
	else
		snprintf(out, cap, "%s", what);
}

void pages_login(struct response *resp, const struct config *cfg,
		 const struct login_page *page)
{
	char title[160];
	const char *tmpl = cfg->login_template_text != NULL
				   ? cfg->login_template_text
				   : login_template;

	heading(title, sizeof(title), "Sign in", cfg);
	const struct html_var vars[] = {
		{"title", title},
		{"heading", title},
		{"app_name", cfg->app_name},
		{"message", page->message},
		{"message_class", page->error ? " error" : ""},
		{"message_role", page->error ? "alert" : "status"},
		/* Back after a failure with the name kept: type the password. */
		{"username_focus", page->username[0] ? "" : "autofocus"},
		{"password_focus", page->username[0] ? "autofocus" : ""},
		{"csrf_token", page->csrf_token},
		{"next", page->next},
		{"reauth", page->reauth ? "1" : ""},
		{"username", page->username},
		{"action", "/auth/login"},
		{"register_url",
		 cfg->allow_registration ? "/auth/register" : ""},
		{"register_hidden", cfg->allow_registration ? "" : "hidden"},
	};

	render(resp, tmpl, vars, AG_ARRAY_LEN(vars));
}

int pages_check_login_template(const char *text, size_t len, char *err,
			       size_t err_cap)
{
	const char *p = text, *end = text + len;
	bool has_csrf = false;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, err_cap, "it contains a NUL byte");
		return -1;
	}
	while ((p = memmem(p, (size_t)(end - p), "{{", 2)) != NULL) {
		const char *name = p + 2, *q = name;
		size_t n;
		bool known = false;

		while (q < end && ((*q >= 'a' && *q <= 'z') || *q == '_'))
			q++;
		if (q == name || end - q < 2 || q[0] != '}' || q[1] != '}') {
			snprintf(err, err_cap,
				 "malformed placeholder at byte %zu (expected "
				 "{{name}} with name of a-z and _)",
				 (size_t)(p - text));
			return -1;
		}
		n = (size_t)(q - name);
		for (size_t i = 0; i < AG_ARRAY_LEN(login_placeholders); i++)
			known = known || (strlen(login_placeholders[i]) == n &&
					  memcmp(login_placeholders[i], name, n) == 0);
		if (!known) {
			snprintf(err, err_cap, "unknown placeholder {{%.*s}}",
				 (int)n, name);
			return -1;
		}
		has_csrf = has_csrf || (n == 10 && memcmp(name, "csrf_token", n) == 0);
		p = q + 2;
	}
	if (!has_csrf) {
		snprintf(err, err_cap,
			 "no {{csrf_token}}: its form could never be posted");
		return -1;
	}
	return 0;
}

void pages_password(struct response *resp, const struct config *cfg,
		    const struct account_page *page)
{
	char title[160];

	heading(title, sizeof(title), "Change password", cfg);
	const struct html_var vars[] = {
		{"title", title},
		{"message", page->message},
		{"message_class", page->error ? " error" : ""},
		{"message_role", page->error ? "alert" : "status"},
		{"csrf_token", page->csrf_token},
		{"username", page->username},
	};

	render(resp, password_template, vars, AG_ARRAY_LEN(vars));
}

void pages_register(struct response *resp, const struct config *cfg,
		    const struct account_page *page)
{
	char title[160];

	heading(title, sizeof(title), "Create an account", cfg);
	const struct html_var vars[] = {
		{"title", title},
		{"heading", title},
		{"message", page->message},
		{"message_class", page->error ? " error" : ""},
		{"message_role", page->error ? "alert" : "status"},
		{"csrf_token", page->csrf_token},
		{"next", page->next},
		{"username", page->username},
		{"email", page->email},
	};

	render(resp, register_template, vars, AG_ARRAY_LEN(vars));
}

void pages_logout(struct response *resp, const char *username,
		  const char *csrf_token)
{
	const struct html_var vars[] = {
		{"title", "Sign out"},
		{"username", username},
		{"csrf_token", csrf_token},
	};

	render(resp, logout_template, vars, AG_ARRAY_LEN(vars));
}

void pages_message(struct response *resp, const char *title,
		   const char *message)
{
	const struct html_var vars[] = {
		{"title", title},
		{"message", message},
	};

	render(resp, message_template, vars, AG_ARRAY_LEN(vars));
}
