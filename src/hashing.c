#include "hashing.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "validate.h"

#define HASHING_NICE 19 /* the lowest priority: hashing uses idle cycles */

enum hashing_op { OP_HASH = 1, OP_VERIFY = 2, OP_BURN = 3 };

/* One call, as one datagram: a password never spans two messages. */
struct hashing_request {
	uint8_t op;
	uint16_t password_len;
	char stored[PASSWORD_HASH_MAX];         /* OP_VERIFY: NUL-terminated */
	char password[PASSWORD_MAX_LEN + 1];
};

struct hashing_reply {
	int32_t result; /* OP_HASH: 0 or -1; OP_VERIFY: a password_verdict */
	char hash[PASSWORD_HASH_MAX];           /* OP_HASH: NUL-terminated */
};

/* A channel of the parent: its socket, and whether it still works. */
struct channel {
	int fd;
	atomic_bool broken;
};

static struct channel *channels;
static long channel_count;
static pid_t child_pid = -1;
static _Thread_local struct channel *thread_channel;

/* ---- the hashing process ---- */

static void serve_request(const struct hashing_request *req,
			  struct hashing_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	switch (req->op) {
	case OP_HASH:
		reply->result = password_hash(req->password, req->password_len,
					      reply->hash, sizeof(reply->hash));
		break;
	case OP_VERIFY:
		reply->result = password_verify(req->stored, req->password,
						req->password_len);
		break;
	case OP_BURN:
		password_burn(req->password, req->password_len);
		break;
	default:
		reply->result = -1;
	}
}

static void *serve_channel(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct hashing_request req;
	struct hashing_reply reply;
	ssize_t n;

	while ((n = recv(fd, &req, sizeof(req), 0)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		/* Only the parent writes here; still, a short or
		 * inconsistent message is refused, never read past. */
		if ((size_t)n != sizeof(req) || req.password_len > PASSWORD_MAX_LEN ||
		    memchr(req.stored, '\0', sizeof(req.stored)) == NULL) {
			memset(&reply, 0, sizeof(reply));
			reply.result = -1;
		} else {
			req.password[req.password_len] = '\0';
			serve_request(&req, &reply);
		}
		explicit_bzero(&req, sizeof(req));
		n = send(fd, &reply, sizeof(reply), MSG_NOSIGNAL);
		explicit_bzero(&reply, sizeof(reply));
		if (n != (ssize_t)sizeof(reply))
			break;
	}
	close(fd);
	return NULL;
}

static int compare_fds(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Everything but stderr and the channels is closed: the child holds no
 * listening socket, database connection or client connection. */
static void close_other_fds(const int *fds, long nkeep)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int *keep = malloc((size_t)nkeep * sizeof(*keep));
	unsigned int from = 3;

	if (keep == NULL)
		_exit(1);
	memcpy(keep, fds, (size_t)nkeep * sizeof(*keep));
	qsort(keep, (size_t)nkeep, sizeof(*keep), compare_fds);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
	}
	for (long i = 0; i < nkeep; i++) {
		if ((unsigned int)keep[i] > from)
			close_range(from, (unsigned int)keep[i] - 1, 0);
		from = (unsigned int)keep[i] + 1;
	}
	close_range(from, ~0U, 0);
	free(keep);
}

static void lower_priority(void)
{
	int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);

	/* The session's weight among the others (where autogroups are on),
	 * and the process's threads' weight among the daemon's (where the
	 * service's cgroup holds both processes). */
	if (fd >= 0) {
		dprintf(fd, "%d", HASHING_NICE);
		close(fd);
	}
	if (setpriority(PRIO_PROCESS, 0, HASHING_NICE) != 0)
		log_system_error("setpriority");
}

static __attribute__((noreturn)) void child_main(pid_t parent, int *fds,
						 long count)
{
	pthread_t *threads = calloc((size_t)count, sizeof(*threads));
	struct hashing_reply ready = {0};
	long started = 0;

	/* The parent's signals are its own: it stops the child by closing
	 * the channels, and the kernel kills the child if the parent dies. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(1);
	setsid();
	lower_priority();
	close_other_fds(fds, count);
	if (threads == NULL ||
	    send(fds[0], &ready, sizeof(ready), MSG_NOSIGNAL) != sizeof(ready))
		_exit(1);
	for (; started < count; started++)
		if (pthread_create(&threads[started], NULL, serve_channel,
				   (void *)(intptr_t)fds[started]) != 0)
			break;
	for (long i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	/* _exit: the parent's atexit handlers and leak checks are its own. */
	_exit(started == count ? 0 : 1);
}

/* ---- the daemon's side ---- */

static bool wait_ready(int fd)
{
	struct hashing_reply ready;
	ssize_t n;

	do
		n = recv(fd, &ready, sizeof(ready), 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(ready) && ready.result == 0;
}

int hashing_start(long count, char *err, size_t err_cap)
{
	int *child_fds = calloc((size_t)count, sizeof(*child_fds));
	pid_t parent = getpid(), pid;
	long made = 0;

	if (count < 1) {
		snprintf(err, err_cap, "hashing process: no channel asked for");
		free(child_fds);
		return -1;
	}
	channels = calloc((size_t)count, sizeof(*channels));
	if (channels == NULL || child_fds == NULL) {
		snprintf(err, err_cap, "hashing process: out of memory");
		goto fail;
	}
	for (; made < count; made++) {
		int pair[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
			snprintf(err, err_cap, "hashing process: socketpair: %s",
				 strerror(errno));
			goto fail;
		}
		channels[made].fd = pair[0];
		child_fds[made] = pair[1];
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, err_cap, "hashing process: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_main(parent, child_fds, count);
	for (long i = 0; i < count; i++)
		close(child_fds[i]);
	free(child_fds);
	child_pid = pid;
	channel_count = count;
	/* The child says when it is in place (its own session and priority). */
	if (!wait_ready(channels[0].fd)) {
		snprintf(err, err_cap, "hashing process: did not start");
		hashing_stop();
		return -1;
	}
	return 0;
fail:
	for (long i = 0; i < made; i++) {
		close(channels[i].fd);
		close(child_fds[i]);
	}
	free(channels);
	channels = NULL;
	free(child_fds);
	return -1;
}

pid_t hashing_pid(void)
{
	return child_pid;
}

void hashing_use_channel(long index)
{
	thread_channel = index >= 0 && index < channel_count ? &channels[index]
							      : NULL;
}

void hashing_stop(void)
{
	int status = 0;
	pid_t waited = -1;

	for (long i = 0; i < channel_count; i++)
		close(channels[i].fd);
	if (child_pid > 0) {
		do
			waited = waitpid(child_pid, &status, 0);
		while (waited < 0 && errno == EINTR);
		if (waited == child_pid &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			log_event(LOG_WARN, 0, "hashing_process_failed", NULL);
	}
	free(channels);
	channels = NULL;
	channel_count = 0;
	child_pid = -1;
}

/*
 * One round trip on the calling thread's channel. False when there is no
 * usable channel: the caller then does the work itself. A channel that
 * fails once stays broken (the child died: it is not restarted, and the
 * daemon goes on hashing in its own threads).
 */
static bool call_child(struct hashing_request *req, struct hashing_reply *reply)
{
	struct channel *ch = thread_channel;
	ssize_t n;
	bool ok = false;

	if (ch == NULL || atomic_load(&ch->broken))
		return false;
	do
		n = send(ch->fd, req, sizeof(*req), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*req)) {
		do
			n = recv(ch->fd, reply, sizeof(*reply), 0);
		while (n < 0 && errno == EINTR);
		ok = n == (ssize_t)sizeof(*reply) &&
		     memchr(reply->hash, '\0', sizeof(reply->hash)) != NULL;
	}
	if (!ok && !atomic_exchange(&ch->broken, true))
		log_event(LOG_ERROR, 0, "hashing_process_lost", "msg",
			  "hashing in the daemon's own threads from now on",
			  NULL);
	return ok;
}

/* Fills a request; false when the password cannot travel (too long for
 * any caller's validation: then the work stays in-process). */
static bool make_request(struct hashing_request *req, enum hashing_op op,
			 const char *password, size_t len)
{
	if (len > PASSWORD_MAX_LEN)
		return false;
	memset(req, 0, sizeof(*req));
	req->op = (uint8_t)op;
	req->password_len = (uint16_t)len;
	memcpy(req->password, password, len);
	return true;
}

int hashing_hash(const char *password, size_t len, char *out, size_t out_cap)
{
	struct hashing_request req;
	struct hashing_reply reply;
	int result;

	if (!make_request(&req, OP_HASH, password, len))
		return password_hash(password, len, out, out_cap);
	if (!call_child(&req, &reply)) {
		explicit_bzero(&req, sizeof(req));
		return password_hash(password, len, out, out_cap);
	}
	explicit_bzero(&req, sizeof(req));
	result = reply.result == 0 && strlen(reply.hash) < out_cap ? 0 : -1;
	if (result == 0)
		strcpy(out, reply.hash);
	return result;
}

enum password_verdict hashing_verify(const char *stored, const char *password,
				     size_t len)
{
	struct hashing_request req;
	struct hashing_reply reply;
	enum password_verdict verdict;

	if (strlen(stored) >= sizeof(req.stored) ||
	    !make_request(&req, OP_VERIFY, password, len))
		return password_verify(stored, password, len);
	strcpy(req.stored, stored);
	if (!call_child(&req, &reply)) {
		explicit_bzero(&req, sizeof(req));
		return password_verify(stored, password, len);
	}
	explicit_bzero(&req, sizeof(req));
	switch (reply.result) {
	case PASSWORD_MATCH:
	case PASSWORD_MATCH_REHASH:
	case PASSWORD_MISMATCH:
		verdict = (enum password_verdict)reply.result;
		break;
	default:
		verdict = PASSWORD_ERROR;
	}
	return verdict;
}

void hashing_burn(const char *password, size_t len)
{
	struct hashing_request req;
	struct hashing_reply reply;

	if (!make_request(&req, OP_BURN, password, len)) {
		password_burn(password, len);
		return;
	}
	if (!call_child(&req, &reply))
		password_burn(password, len);
	explicit_bzero(&req, sizeof(req));
}
