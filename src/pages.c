#include "pages.h"

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
	"input[type=text],input[type=password]{width:100%;box-sizing:border-box;" \
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
	"<h1>Sign in</h1>\n"
	"<p class=\"flash{{message_class}}\" role=\"{{message_role}}\">{{message}}</p>\n"
	"<form method=\"post\" action=\"/auth/login\">\n"
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
	"</form>\n" PAGE_TAIL;

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

void pages_login(struct response *resp, const struct login_page *page)
{
	const struct html_var vars[] = {
		{"title", "Sign in"},
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
	};

	render(resp, login_template, vars, AG_ARRAY_LEN(vars));
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
