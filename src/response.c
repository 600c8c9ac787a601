#include "response.h"

#include <stdio.h>
#include <string.h>

void response_init(struct response *resp)
{
	resp->status = 500;
	resp->content_type = NULL;
	buf_init(&resp->headers, RESPONSE_MAX_HEADERS);
	buf_init(&resp->body, RESPONSE_MAX_BODY);
	resp->failed = false;
}

void response_free(struct response *resp)
{
	buf_free(&resp->headers);
	buf_free(&resp->body);
}

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

void response_header(struct response *resp, const char *name,
		     const char *value, size_t value_len)
{
	if (has_control(name, strlen(name)) || has_control(value, value_len)) {
		resp->failed = true;
		return;
	}
	buf_append_str(&resp->headers, name);
	buf_append(&resp->headers, ": ", 2);
	buf_append(&resp->headers, value, value_len);
	buf_append(&resp->headers, "\r\n", 2);
}

/* RFC 6265 cookie-octet: printable ASCII except space, '"', ',', ';', '\'. */
static bool is_cookie_value(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' ||
		    c == ';' || c == '\\')
			return false;
	}
	return true;
}

void response_set_cookie(struct response *resp, const struct cookie_spec *spec,
			 const char *value)
{
	char line[512];
	int n;

	if (!is_cookie_value(value) || !is_cookie_value(spec->name)) {
		resp->failed = true;
		return;
	}
	if (spec->max_age >= 0)
		n = snprintf(line, sizeof(line),
			     "%s=%s; Path=/; Max-Age=%ld; HttpOnly; "
			     "SameSite=Lax%s",
			     spec->name, value, spec->max_age,
			     spec->secure ? "; Secure" : "");
	else
		n = snprintf(line, sizeof(line),
			     "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
			     spec->name, value, spec->secure ? "; Secure" : "");
	if (n < 0 || (size_t)n >= sizeof(line)) {
		resp->failed = true;
		return;
	}
	response_header(resp, "Set-Cookie", line, (size_t)n);
}

void response_page_headers(struct response *resp)
{
	static const struct {
		const char *name, *value;
	} page_headers[] = {
		/* The built-in pages need no script and only inline styles. */
		{"Content-Security-Policy",
		 "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
		 "data:; form-action 'self'; frame-ancestors 'none'; "
		 "base-uri 'none'"},
		{"X-Frame-Options", "DENY"},
		{"X-Content-Type-Options", "nosniff"},
		{"Cache-Control", "no-store"},
		{"Referrer-Policy", "same-origin"},
	};

	for (size_t i = 0; i < AG_ARRAY_LEN(page_headers); i++)
		response_header(resp, page_headers[i].name,
				page_headers[i].value,
				strlen(page_headers[i].value));
}

const char *response_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void response_serialize(const struct response *resp, struct buf *out)
{
	buf_printf(out, "Status: %d %s\r\n", resp->status,
		   response_reason(resp->status));
	if (resp->content_type != NULL)
		buf_printf(out, "Content-Type: %s\r\n", resp->content_type);
	if (resp->headers.len > 0)
		buf_append(out, resp->headers.data, resp->headers.len);
	buf_append(out, "\r\n", 2);
	if (resp->body.len > 0)
		buf_append(out, resp->body.data, resp->body.len);
}
