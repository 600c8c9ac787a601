/*
 * The hashing process: the password work done in a child process of its
 * own session, at the lowest priority, with the same answers as in-process;
 * and in-process again when the child is gone.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hashing.h"
#include "password.h"

static void start(long channels)
{
	char err[256] = "";

	cr_assert_eq(password_init(), 0);
	cr_assert_eq(hashing_start(channels, err, sizeof(err)), 0, "%s", err);
	cr_assert_gt(hashing_pid(), 0);
}

Test(hashing, answers_like_the_library_from_its_own_session)
{
	static const char password[] = "correct horse battery staple";
	char hash[PASSWORD_HASH_MAX];
	pid_t child;

	start(2);
	child = hashing_pid();
	cr_expect_eq(getsid(child), child, "the hashing process leads a session");
	cr_expect_eq(getpriority(PRIO_PROCESS, (id_t)child), 19,
		     "the hashing process runs at nice 19");

	hashing_use_channel(1);
	cr_assert_eq(hashing_hash(password, strlen(password), hash, sizeof(hash)), 0);
	cr_expect(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0, "%s",
		  hash);
	cr_expect_eq(hashing_verify(hash, password, strlen(password)),
		     PASSWORD_MATCH);
	cr_expect_eq(hashing_verify(hash, "wrong", 5), PASSWORD_MISMATCH);
	cr_expect_eq(password_verify(hash, password, strlen(password)),
		     PASSWORD_MATCH, "the library accepts the child's hash");
	cr_expect_eq(hashing_verify("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$"
				    "aGFzaGhhc2hoYXNoaGFzaA",
				    password, strlen(password)),
		     PASSWORD_MISMATCH);
	cr_expect_eq(hashing_verify("not a hash", password, strlen(password)),
		     PASSWORD_ERROR);
	hashing_burn(password, strlen(password));
	hashing_stop();
	cr_expect_eq(hashing_pid(), -1);
	cr_expect(kill(child, 0) != 0 && errno == ESRCH,
		  "the hashing process was reaped");
}

Test(hashing, a_dead_child_leaves_the_work_in_process)
{
	static const char password[] = "another passphrase";
	char hash[PASSWORD_HASH_MAX];
	int status;

	start(1);
	hashing_use_channel(0);
	cr_assert_eq(kill(hashing_pid(), SIGKILL), 0);
	cr_assert_eq(waitpid(hashing_pid(), &status, 0), hashing_pid());
	cr_assert_eq(hashing_hash(password, strlen(password), hash, sizeof(hash)), 0);
	cr_expect_eq(hashing_verify(hash, password, strlen(password)),
		     PASSWORD_MATCH);
	cr_expect_eq(hashing_verify(hash, "nope", 4), PASSWORD_MISMATCH);
	hashing_stop();
}

Test(hashing, threads_without_a_channel_hash_in_process)
{
	static const char password[] = "yet another one";
	char hash[PASSWORD_HASH_MAX];

	start(1);
	hashing_use_channel(5); /* out of range: no channel */
	cr_assert_eq(hashing_hash(password, strlen(password), hash, sizeof(hash)), 0);
	cr_expect_eq(hashing_verify(hash, password, strlen(password)),
		     PASSWORD_MATCH);
	hashing_stop();
}
