/* The HTML pages authgate serves: login, logout, and short messages. */
#ifndef AUTHGATE_PAGES_H
#define AUTHGATE_PAGES_H

#include <stdbool.h>

#include "response.h"

struct login_page {
	const char *message;    /* flash message or "" */
	bool error;             /* the message reports a failure */
	const char *username;   /* prefilled username or "" */
	const char *next;       /* validated local path */
	const char *csrf_token;
	bool reauth;            /* the form refreshes the current session */
};

/* Each renders a full page into resp (body, content type, page headers);
 * every value is HTML-escaped. The status is left to the caller. */
void pages_login(struct response *resp, const struct login_page *page);
void pages_logout(struct response *resp, const char *username,
		  const char *csrf_token);
void pages_message(struct response *resp, const char *title,
		   const char *message);

#endif
