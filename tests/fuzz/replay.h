/* replay.h — what every steerdns fuzz target shares.
 *
 * A target defines LLVMFuzzerTestOneInput() (and fuzz_teardown(), which frees the fixtures it
 * built so that a replay under ASan reports no leaks). Built with -fsanitize=fuzzer and
 * -DSTEERDNS_LIBFUZZER it is a libFuzzer target; otherwise replay.c supplies a main() that
 * feeds every file named on the command line (directories are walked one level) to the target,
 * each input in a heap buffer of exactly its size so that ASan sees an over-read, and fails
 * when no input was found. FUZZ_CHECK aborts with the failed condition: libFuzzer records it
 * as a crash and the replay test fails.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Free the fixtures (replay only; libFuzzer never returns). */
void fuzz_teardown(void);

/* Silence the process-wide log (targets feed garbage; every rejection logs an error). */
void fuzz_quiet_log(void);

/* A private directory for files a target writes (on tmpfs when /dev/shm exists), made once
 * per process and removed at exit with what is in it. */
const char *fuzz_tmpdir(void);

/* Write data[0..size) to path (replacing it). Aborts on error. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* Check a DNS message a target produced: a 12-byte header, then every question and record
 * of the four sections walked exactly to len, every compression pointer pointing backwards,
 * no reserved label type. For each answer-section record, on_answer (may be NULL) gets its
 * type. Aborts through FUZZ_CHECK on any violation. */
void fuzz_check_message(const uint8_t *m, size_t len, void (*on_answer)(uint16_t type, void *arg),
                        void *arg);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)
