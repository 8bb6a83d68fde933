/* test_require.c — SD_REQUIRE: a held requirement costs nothing visible; a failed one logs
 * file:line, the function and the condition, then aborts (checked in a child process). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contrib/base/require.h"

static int evaluated;

static int count_evaluation(int v)
{
	evaluated++;
	return v;
}

static void test_held(void **state)
{
	(void)state;
	evaluated = 0;
	SD_REQUIRE(count_evaluation(1) == 1);
	assert_int_equal(evaluated, 1); /* evaluated once, in every build type */
}

static int fail_line;

/* Records the line of its SD_REQUIRE; fails it when for_real. */
static void fails_here(bool for_real)
{
	int x = for_real ? 2 : 3;
	fail_line = __LINE__ + 1;
	SD_REQUIRE(x == 3);
}

static void test_failed_aborts_and_says_where(void **state)
{
	(void)state;
	fails_here(false);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fails_here(true);
		_exit(0); /* not reached when SD_REQUIRE works */
	}
	close(fds[1]);
	char out[4096] = {0};
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	char want[128];
	snprintf(want, sizeof(want), "test_require.c:%d: fails_here: requirement failed: x == 3",
	         fail_line);
	if (!strstr(out, want))
		fail_msg("expected \"%s\" in:\n%s", want, out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_held),
	    cmocka_unit_test(test_failed_aborts_and_says_where),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
