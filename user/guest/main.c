// SPDX-License-Identifier: GPL-2.0
/*
 * Guest entry: set up the console, interrupts and other vCPUs, run the
 * scenario the VMM asked for, and hand back the result.
 */
#include "guest.h"

void _start(void);
void ap_start(void);
extern u8 _end[];

/* Where the VMM finds our entry points and how far the image reaches. */
__attribute__((section(".head"), used))
static const struct vnl_image_head head = {
	.magic = VNL_IMAGE_MAGIC,
	.version = 1,
	.entry = (uintptr_t)_start,
	.ap_entry = (uintptr_t)ap_start,
	.end = (uintptr_t)_end,
};

struct vnl_guest_result result;
const struct vnl_guest_params *params;

static const char *const scenario_names[VNL_SC_COUNT] = {
	[VNL_SC_TRAFFIC] = "traffic",
	[VNL_SC_OVERSIZE] = "oversize",
	[VNL_SC_SHORT_TX] = "short-tx",
	[VNL_SC_POISON] = "poison",
	[VNL_SC_RX_STARVE] = "rx-starve",
	[VNL_SC_TRIPLE_FAULT] = "triple-fault",
	[VNL_SC_REBOOT] = "reboot",
};

static void wait_aps(void)
{
	u64 start = ticks;

	while (__atomic_load_n(&result.aps_online, __ATOMIC_ACQUIRE) <
	       params->vcpus - 1) {
		if (ticks - start > STALL_TICKS) {
			fail("only %u of %u other vCPUs came up",
			     result.aps_online, params->vcpus - 1);
			return;
		}
		arch_wait();
	}
}

/* CPL 3 from here on. */
static void user_main(void)
{
	const struct vnl_guest_params *p = params;

	serial_init();
	printf("guest: scenario %s, %llu frames of %u bytes, batch %u, EVENT_IDX %s, %u vCPUs\n",
	       scenario_names[p->scenario], (unsigned long long)p->frames,
	       p->frame_size, p->batch, p->event_idx ? "wanted" : "off",
	       p->vcpus);
	wait_aps();
	/* The VMM's exit paths: these never come back. */
	if (p->scenario == VNL_SC_REBOOT)
		outb(0x64, 0xfe);	/* keyboard controller: pulse reset */
	if (p->scenario == VNL_SC_TRIPLE_FAULT)
		asm volatile("ud2" : : "c"(SYS_TRIPLE_FAULT));
	scenario_run(ALIGN_UP((uintptr_t)_end, 4096));
	result.timer_ticks = ticks;
	printf("guest: sent %llu, received %llu, verified %llu, %llu interrupts, %llu failed checks\n",
	       (unsigned long long)result.frames_sent,
	       (unsigned long long)result.frames_received,
	       (unsigned long long)result.frames_verified,
	       (unsigned long long)result.irqs,
	       (unsigned long long)result.failures);
	ucall(VNL_UCALL_RESULT, (uintptr_t)&result, sizeof(result));
	ucall(VNL_UCALL_DONE, result.failures, 0);
	for (;;)
		arch_wait();
}

void guest_main(const struct vnl_guest_params *p);
void guest_main(const struct vnl_guest_params *p)
{
	params = p;
	result.magic = VNL_RESULT_MAGIC;
	result.scenario = p->scenario;
	arch_init(p);
	if (p->magic != VNL_PARAMS_MAGIC || p->scenario >= VNL_SC_COUNT) {
		fail("bad parameters from the VMM");
		ucall(VNL_UCALL_DONE, result.failures, 0);
		return;
	}
	arch_enter_user(user_main);
}

/* Other vCPUs: come up in ring 0 and halt for good. */
void ap_main(const struct vnl_guest_params *p, u64 index);
void ap_main(const struct vnl_guest_params *p, u64 index)
{
	(void)p;
	(void)index;
	arch_ap_init();
	__atomic_add_fetch(&result.aps_online, 1, __ATOMIC_RELEASE);
}
