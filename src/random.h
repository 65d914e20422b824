/*-------------------------------------------------------------------------
 *
 * random.h
 *	  A small seeded random number generator, the same on every machine
 *
 * xoshiro256** (Blackman and Vigna 2018) seeded through splitmix64.  segment
 * carries its own generator rather than the server's so that a seed gives
 * the same k-means++ seeding and samples on every PostgreSQL version.
 *
 * Copyright (c) 2026, the segment authors
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGMENT_RANDOM_H
#define SEGMENT_RANDOM_H

typedef struct RandomState
{
	uint64		s[4];
} RandomState;

/* splitmix64: expands one 64-bit value into a well-mixed sequence */
static inline uint64
RandomSplitMix(uint64 *x)
{
	uint64		z = (*x += UINT64CONST(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Seed a generator from a user seed and a stream number (e.g. the init) */
static inline void
RandomSeed(RandomState *state, int64 seed, uint64 stream)
{
	uint64		x = (uint64) seed ^ (stream * UINT64CONST(0xd1b54a32d192ed03));

	for (int i = 0; i < 4; i++)
		state->s[i] = RandomSplitMix(&x);
}

static inline uint64
RandomRotate(uint64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits */
static inline uint64
RandomNext(RandomState *state)
{
	uint64	   *s = state->s;
	uint64		result = RandomRotate(s[1] * 5, 7) * 9;
	uint64		t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = RandomRotate(s[3], 45);
	return result;
}

/* A uniform double in [0, 1) with 53 random bits */
static inline double
RandomUniform(RandomState *state)
{
	return (double) (RandomNext(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* A uniform integer in [0, n), n < 2^53 */
static inline int64
RandomBelow(RandomState *state, int64 n)
{
	int64		i = (int64) (RandomUniform(state) * (double) n);

	return i < n ? i : n - 1;
}

#endif							/* SEGMENT_RANDOM_H */
