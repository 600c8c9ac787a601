/*
 * The hashing process: the daemon's argon2id and bcrypt work runs in a
 * child process of its own, in its own session, at the lowest priority.
 *
 * Why a process and not just low-priority threads: Linux schedules each
 * session (autogroup) or cgroup as one entity, and thread priorities only
 * count inside it. Hashing threads in the daemon's own process made the
 * whole daemon use its full share during a login flood, and the threads
 * serving checks then waited behind them for the daemon's turn on a core.
 * In a session of its own at nice 19 the hashing yields to nginx, the
 * daemon's checks and PostgreSQL alike, and still uses every idle cycle.
 *
 * Each hashing thread of the daemon owns one channel (a SOCK_SEQPACKET
 * socketpair) to a thread of the child, so calls never wait on each
 * other. Without a started process, or on a thread without a channel, or
 * if the child has died, the work runs in the calling thread (the
 * password_* functions), so a login never fails for want of the child.
 */
#ifndef AUTHGATE_HASHING_H
#define AUTHGATE_HASHING_H

#include <stddef.h>
#include <sys/types.h>

#include "common.h"
#include "password.h"

/*
 * Forks the hashing process with `channels` threads. Call once, after
 * password_init() and before any other thread exists (fork copies only
 * the calling thread). 0, or -1 with a reason in `err`.
 */
int hashing_start(long channels, char *err, size_t err_cap) AG_MUST_CHECK;

/* The hashing process's pid, or -1 when none runs. */
pid_t hashing_pid(void);

/* Binds the calling thread to channel `index` (0 .. channels - 1). */
void hashing_use_channel(long index);

/*
 * Closes every channel and waits for the hashing process to exit. Call
 * after every thread that used a channel has stopped.
 */
void hashing_stop(void);

/* password_hash(), password_verify(), password_burn() done by the
 * hashing process for the calling thread; same contracts and costs. */
int hashing_hash(const char *password, size_t len, char *out,
		 size_t out_cap) AG_MUST_CHECK;
enum password_verdict hashing_verify(const char *stored, const char *password,
				     size_t len) AG_MUST_CHECK;
void hashing_burn(const char *password, size_t len);

#endif
