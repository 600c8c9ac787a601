/*
 * A --login-template: pages_check_login_template() on the input, and for
 * templates it accepts, pages_login() with values full of markup.
 *
 * Properties: the check never reads past the input; an accepted template
 * always renders (the check and the renderer agree on every placeholder);
 * no value reaches the page unescaped, so the page has exactly as many
 * '<' as the template; a rejected template comes with a reason. (Markup
 * split around a placeholder that renders empty, "<sc{{x}}ript", is the
 * operator's own template, not an injection.)
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "pages.h"

static const char hostile[] = "\"><script>alert(1)</script>";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	char *tmpl = fuzz_dup(data, size);
	struct config cfg;
	struct response resp;

	if (pages_check_login_template(tmpl, size, err, sizeof(err)) != 0) {
		FUZZ_ASSERT(err[0] != '\0');
		free(tmpl);
		return 0;
	}
	config_defaults(&cfg);
	strcpy(cfg.app_name, hostile);
	/* Accepted templates hold no NUL: a C string from here on. */
	cfg.login_template_text = malloc(size + 1);
	FUZZ_ASSERT(cfg.login_template_text != NULL);
	memcpy(cfg.login_template_text, data, size);
	cfg.login_template_text[size] = '\0';
	response_init(&resp);
	pages_login(&resp, &cfg, &(struct login_page){
				     .message = hostile,
				     .error = true,
				     .username = hostile,
				     .next = hostile,
				     .csrf_token = hostile,
			     });
	FUZZ_ASSERT(!resp.failed);
	FUZZ_ASSERT(fuzz_count(resp.body.data, resp.body.len, '<') ==
		    fuzz_count(tmpl, size, '<'));
	response_free(&resp);
	free(cfg.login_template_text);
	free(tmpl);
	return 0;
}
