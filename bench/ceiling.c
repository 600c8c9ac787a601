/*
 * The benchmark's ceiling: an HTTP/1.1 upstream that answers every request
 * head at once with what a successful check answers, and does nothing
 * else. nginx reaches it exactly as it reaches /auth/check (same snippet,
 * same keepalive), so its figure is the most any daemon design could reach
 * on the machine. One thread, one epoll loop: on few cores that costs less
 * per answer than two.
 *
 * Usage: ceiling SOCKET_PATH   (serves until killed)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define IN_MAX 16384

static const char ANSWER[] = "HTTP/1.1 200 OK\r\n"
			     "Content-Length: 0\r\n"
			     "X-Auth-User: bench\r\n"
			     "X-Auth-User-Id: 1\r\n"
			     "X-Auth-Email: \r\n"
			     "X-Auth-Roles: \r\n"
			     "\r\n";

struct conn {
	int fd;
	size_t len;
	char in[IN_MAX];
};

static int listen_on(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "ceiling: socket path too long\n");
		return -1;
	}
	strcpy(addr.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, 1024) != 0) {
		perror("ceiling: listen");
		return -1;
	}
	return fd;
}

/* Answers every complete head in the buffer; false when the connection
 * must be closed. */
static bool serve(struct conn *c)
{
	ssize_t n = read(c->fd, c->in + c->len, IN_MAX - c->len);
	char *end;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0)
		return false;
	c->len += (size_t)n;
	while ((end = memmem(c->in, c->len, "\r\n\r\n", 4)) != NULL) {
		size_t used = (size_t)(end + 4 - c->in);

		if (write(c->fd, ANSWER, sizeof(ANSWER) - 1) !=
		    (ssize_t)sizeof(ANSWER) - 1)
			return false;
		memmove(c->in, c->in + used, c->len - used);
		c->len -= used;
	}
	return c->len < IN_MAX;
}

int main(int argc, char **argv)
{
	struct epoll_event ev = {.events = EPOLLIN}, events[64];
	int lfd, ep;

	if (argc != 2) {
		fprintf(stderr, "usage: ceiling SOCKET_PATH\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(argv[1]);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0)
		return 1;
	for (;;) {
		int n = epoll_wait(ep, events, 64, -1);

		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;
			int fd;

			if (c != NULL) {
				if (!serve(c)) {
					close(c->fd);
					free(c);
				}
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL,
					     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
				c = calloc(1, sizeof(*c));
				ev.data.ptr = c;
				if (c == NULL ||
				    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
					close(fd);
					free(c);
					continue;
				}
				c->fd = fd;
			}
		}
	}
}
