// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the ring engine (core/vnl_engine.c, core/vnl_mem.c):
 * the entry points and the run's switches. The engine is compiled into the
 * fuzzer with ASan and UBSan and is driven by a program decoded from the
 * input; every drain is checked against invariants that hold whatever the
 * guest did and, when guest memory held still, against a model of the
 * device written without the engine's code.
 *
 *   vnl_fuzz.h	what the files share: limits, CHECK/TRACE, struct fz
 *   main.c	the entry points, the switches, the statistics
 *   input.c	the input format: decoder, menus, the op loop
 *   memory.c	guest memory: the arena, the region table, backing rules
 *   guest.c	the driver side: ring actions, the racing and starving guests
 *   control.c	device calls other than the drain, with their contracts
 *   drain.c	one drain: the access hook, the callbacks, the sequence
 *   invariants.c	what holds whatever the guest did
 *   model.c	the independent model: a drain replayed and compared
 *
 * libFuzzer provides main(): `vnl_fuzz DIR...` fuzzes, `vnl_fuzz FILE...`
 * replays inputs (fuzz/repro holds those that once found a bug; scripts/
 * check.d/20-fuzz replays them). Any failed check prints what failed and
 * traps, so libFuzzer keeps the input. Switches, from the environment:
 * VNL_FUZZ_TRACE=1 narrates a replayed input; VNL_FUZZ_NO_MODEL=1 turns
 * the model's replay off (to see what the other checks catch alone);
 * VNL_FUZZ_STATS=1 prints at exit how often each kind of check ran.
 */
#include <sanitizer/asan_interface.h>

#include "vnl_fuzz.h"

struct fz *cur;
bool trace;
bool no_model;
struct stats st;

static void print_stats(void)
{
	fprintf(stderr, "vnl_fuzz: %llu drains, %llu live, %llu racing\n",
		(unsigned long long)st.drains, (unsigned long long)st.live,
		(unsigned long long)st.racing);
	fprintf(stderr, "vnl_fuzz: %llu replayed (%llu with unknown bytes)\n",
		(unsigned long long)st.followed,
		(unsigned long long)st.tainted);
	fprintf(stderr, "vnl_fuzz: %llu replays stopped, %llu drains lost\n",
		(unsigned long long)st.stopped, (unsigned long long)st.lost);
	fprintf(stderr, "vnl_fuzz: avail_event %llu (EVENT_IDX) %llu (still)\n",
		(unsigned long long)st.ae_event,
		(unsigned long long)st.ae_still);
	fprintf(stderr, "vnl_fuzz: %llu region table changes\n",
		(unsigned long long)st.set_mem);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *t = getenv("VNL_FUZZ_TRACE");
	const char *m = getenv("VNL_FUZZ_NO_MODEL");
	const char *t2 = getenv("VNL_FUZZ_STATS");

	(void)argc;
	(void)argv;
	trace = t && *t && *t != '0';
	no_model = m && *m && *m != '0';
	if (t2 && *t2 && *t2 != '0')
		atexit(print_stats);
	/* Page-aligned: host addresses keep the alignment of guest ones. */
	arena = aligned_alloc(4096, ARENA);
	sarena = malloc(ARENA);
	tarena = calloc(1, ARENA);
	if (!arena || !sarena || !tarena) {
		perror("vnl_fuzz: allocating guest memory");
		exit(1);
	}
	vnl_test_access = fz_access;
	vnl_test_clock = fz_clock;
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fz f = { .in = data, .len = size };

	cur = &f;
	/* Its own allocation, so ASan sees a step past the struct. */
	f.e = malloc(sizeof(*f.e));
	if (f.e) {
		ASAN_POISON_MEMORY_REGION(arena, ARENA);
		build_memory(&f);
		run(&f);
	}
	free(f.e);
	cur = NULL;
	return 0;
}
