/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What both fuzz targets (the engine's, vnl_fuzz.h; the transports',
 * transport.c) check and narrate with. Each defines `trace`, set from
 * VNL_FUZZ_TRACE=1.
 */
#ifndef VNL_FUZZ_CHECK_H
#define VNL_FUZZ_CHECK_H

#include <errno.h>
#include <stdio.h>

/* A broken invariant: say which, and trap so that libFuzzer keeps the input. */
#define CHECK(c)							\
	do {								\
		if (!(c)) {						\
			fprintf(stderr, "%s: invariant failed: %s "	\
				"(%s:%d)\n", program_invocation_short_name, \
				#c, __FILE__, __LINE__);		\
			__builtin_trap();				\
		}							\
	} while (0)

/* VNL_FUZZ_TRACE=1: narrate a replayed input. */
#define TRACE(...)							\
	do {								\
		if (trace)						\
			fprintf(stderr, __VA_ARGS__);			\
	} while (0)

#endif /* VNL_FUZZ_CHECK_H */
