/* The HTML pages authgate serves: login, logout, and short messages. */
#ifndef AUTHGATE_PAGES_H
#define AUTHGATE_PAGES_H

#include <stdbool.h>

#include "config.h"
#include "response.h"

struct login_page {
	const char *message;    /* flash message or "" */
	bool error;             /* the message reports a failure */
	const char *username;   /* prefilled username or "" */
	const char *next;       /* validated local path */
	const char *csrf_token;
	bool reauth;            /* the form refreshes the current session */
};

/* The password change and registration forms. */
struct account_page {
	const char *message;    /* flash message or "" */
	bool error;
	const char *username;   /* signed-in user, or the name typed */
	const char *email;      /* registration: the address typed */
	const char *next;       /* registration: validated local path */
	const char *csrf_token;
};

/* Each renders a full page into resp (body, content type, page headers);
 * every value is HTML-escaped. The status is left to the caller. The
 * login page is cfg->login_template_text when set. */
void pages_login(struct response *resp, const struct config *cfg,
		 const struct login_page *page);
void pages_password(struct response *resp, const struct config *cfg,
		    const struct account_page *page);
void pages_register(struct response *resp, const struct config *cfg,
		    const struct account_page *page);

/*
 * Checks a --login-template: only known {{placeholders}}, well formed,
 * {{csrf_token}} among them, no NUL byte. 0, or -1 with why in `err`.
 */
int pages_check_login_template(const char *text, size_t len, char *err,
			       size_t err_cap) AG_MUST_CHECK;
void pages_logout(struct response *resp, const char *username,
		  const char *csrf_token);
void pages_message(struct response *resp, const char *title,
		   const char *message);

#endif
