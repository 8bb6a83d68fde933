/* threshold.c — the rise/fall state machine (see threshold.h). */
#include "health/threshold.h"

health_thr_t health_thr_init(bool down)
{
	return (health_thr_t){.down = down};
}

static uint32_t sat_inc(uint32_t v)
{
	return v == UINT32_MAX ? v : v + 1;
}

health_thr_t health_thr_next(health_thr_t s, bool ok, uint32_t rise, uint32_t fall, bool *changed)
{
	health_thr_t n = s;
	if (ok) {
		n.ok_run = sat_inc(s.ok_run);
		n.fail_run = 0;
		if (n.down && n.ok_run >= rise)
			n.down = false;
	} else {
		n.fail_run = sat_inc(s.fail_run);
		n.ok_run = 0;
		if (!n.down && n.fail_run >= fall)
			n.down = true;
	}
	if (n.ok_run >= rise || n.fail_run >= fall)
		n.decided = true;
	if (changed)
		*changed = n.down != s.down;
	return n;
}

uint32_t health_word_pack(bool down, health_force_t force)
{
	uint32_t w = down ? HEALTH_STATE_DOWN : 0;
	if (force == HEALTH_FORCE_UP)
		w |= HEALTH_STATE_FORCED;
	else if (force == HEALTH_FORCE_DOWN)
		w |= HEALTH_STATE_FORCED | HEALTH_STATE_FORCED_DOWN;
	return w;
}

bool health_word_checked_down(uint32_t word)
{
	return (word & HEALTH_STATE_DOWN) != 0;
}

health_force_t health_word_force(uint32_t word)
{
	if (!(word & HEALTH_STATE_FORCED))
		return HEALTH_FORCE_NONE;
	return (word & HEALTH_STATE_FORCED_DOWN) ? HEALTH_FORCE_DOWN : HEALTH_FORCE_UP;
}
