/* threshold.h — the rise/fall threshold state machine and state-word packing, as pure functions.
 *
 * A target goes down after `fall` consecutive failed checks and up after `rise` consecutive
 * successes; a single lost probe between successes resets the failure run (the gdnsd monitor
 * model). The functions touch nothing but their arguments, so the unit tests drive them
 * directly. Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "contrib/base/compiler.h"
#include "health/health.h"

typedef struct {
	bool down;
	uint32_t ok_run;   /* consecutive successes, saturating */
	uint32_t fail_run; /* consecutive failures, saturating */
	bool decided;      /* a run reached rise or fall once: the state is a verdict */
} health_thr_t;

/* Initial thresholds state: up or down with empty runs. */
health_thr_t health_thr_init(bool down);

/* The state after one check result. rise and fall are at least 1. *changed (optional) is set
 * to whether the verdict flipped. */
health_thr_t health_thr_next(health_thr_t s, bool ok, uint32_t rise, uint32_t fall, bool *changed);

/* Pack a verdict and an override into a state word. */
uint32_t health_word_pack(bool down, health_force_t force);
/* The verdict bit and the override of a word. */
bool health_word_checked_down(uint32_t word);
health_force_t health_word_force(uint32_t word);
