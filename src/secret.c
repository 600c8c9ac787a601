#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "validate.h"

/* Drops one trailing "\n" or "\r\n"; false when another line break or a
 * NUL is left, or nothing. */
static bool one_line(char *s, size_t *len)
{
	if (*len > 0 && s[*len - 1] == '\n')
		(*len)--;
	if (*len > 0 && s[*len - 1] == '\r')
		(*len)--;
	s[*len] = '\0';
	return *len > 0 && memchr(s, '\0', *len) == NULL &&
	       strcspn(s, "\r\n") == *len;
}

int secret_read_file(const char *path, char *out, size_t cap, char *err,
		     size_t err_cap)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, status = -1;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, err_cap, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_cap, "%s is not a regular file", path);
		goto out;
	}
	/* One byte more than fits tells a file that is too long. */
	while (len < cap && (n = read(fd, out + len, cap - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_cap, "cannot read %s: %s", path,
				 strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	if (len >= cap) {
		snprintf(err, err_cap, "%s: longer than %zu bytes", path,
			 cap - 2);
		goto out;
	}
	if (!one_line(out, &len)) {
		snprintf(err, err_cap,
			 "%s: expected one line holding the password", path);
		goto out;
	}
	status = 0;
out:
	if (status != 0)
		explicit_bzero(out, cap);
	close(fd);
	return status;
}

static struct termios saved_termios;

/* A signal while echo is off must not leave the terminal silent. */
static void restore_and_reraise(int sig)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from standard input into `out`; false at EOF or when it does
 * not fit. */
static bool read_line(char *out, size_t cap, size_t *len)
{
	if (fgets(out, (int)cap, stdin) == NULL)
		return false;
	*len = strlen(out);
	return *len > 0 && (out[*len - 1] == '\n' || feof(stdin));
}

static int prompt_no_echo(const char *prompt, char *out, size_t cap,
			  size_t *len)
{
	/* Not SIGTSTP: the shell keeps a stopped job's terminal modes and
	 * gives them back at fg, so the rest is typed silently too. */
	static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction quiet = {.sa_handler = restore_and_reraise};
	struct sigaction old[AG_ARRAY_LEN(signals)];
	struct termios silent;
	bool ok;

	if (tcgetattr(STDIN_FILENO, &saved_termios) != 0)
		return -1;
	silent = saved_termios;
	silent.c_lflag &= (tcflag_t)~ECHO;
	silent.c_lflag |= ECHONL;
	for (size_t i = 0; i < AG_ARRAY_LEN(signals); i++)
		sigaction(signals[i], &quiet, &old[i]);
	/* Echo off before the prompt: whatever is typed after it is silent. */
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
	fputs(prompt, stderr);
	fflush(stderr);
	ok = read_line(out, cap, len);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	for (size_t i = 0; i < AG_ARRAY_LEN(signals); i++)
		sigaction(signals[i], &old[i], NULL);
	return ok ? 0 : -1;
}

int secret_read_password(char *out, size_t cap, char *err, size_t err_cap)
{
	char again[PASSWORD_MAX_LEN + 2];
	size_t len = 0, again_len = 0;
	int status = -1;

	if (!isatty(STDIN_FILENO)) {
		if (!read_line(out, cap, &len)) {
			snprintf(err, err_cap, "no password on standard input "
				 "(one line, at most %d bytes)", PASSWORD_MAX_LEN);
			goto out;
		}
	} else if (prompt_no_echo("New password: ", out, cap, &len) != 0 ||
		   prompt_no_echo("Repeat it: ", again, sizeof(again),
				  &again_len) != 0) {
		snprintf(err, err_cap, "no password entered");
		goto out;
	} else if (again_len != len || memcmp(out, again, len) != 0) {
		snprintf(err, err_cap, "the two passwords differ");
		goto out;
	}
	if (!one_line(out, &len) || len > PASSWORD_MAX_LEN ||
	    !validate_password(out, len)) {
		snprintf(err, err_cap, "a password has 1 to %d bytes, "
			 "on one line", PASSWORD_MAX_LEN);
		goto out;
	}
	status = 0;
out:
	explicit_bzero(again, sizeof(again));
	if (status != 0)
		explicit_bzero(out, cap);
	return status;
}
