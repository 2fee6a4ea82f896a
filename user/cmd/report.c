// SPDX-License-Identifier: GPL-2.0
/* The summary of `vnetloop run`, as text or as one JSON object. */
#include <stdio.h>
#include <string.h>

#include "user/cmd/run.h"
#include "user/dev/mmio.h"

static const char *const counter_names[] = VNETLOOP_COUNTER_NAMES;

static const char *const io_names[VM_NR_IO_CLASSES] = {
	[VM_IO_SERIAL] = "serial", [VM_IO_UCALL] = "ucall",
	[VM_IO_KBD] = "kbd", [VM_IO_OTHER] = "other",
};

static const char *slot_name(unsigned int slot)
{
	if (slot == VM_MMIO_SLOT_CONFIG)
		return "config";
	if (slot == VM_MMIO_SLOT_OTHER)
		return "other";
	return vnl_mmio_reg_name(slot);
}

static double elapsed(const struct run_state *s)
{
	return s->t_end > s->t_start ? s->t_end - s->t_start : 0;
}

/* The measured phase is the last --frames frames of the scenario. */
static double rate(const struct run_state *s)
{
	double e = elapsed(s);

	return e > 0 ? s->o->frames / e : 0;
}

/* Why a CPU time is missing; NULL when it is there. */
static const char *cpu_missing(const struct run_cpu *c)
{
	if (c->have)
		return NULL;
	if (c->error[0])
		return c->error;
	return c->started ? "the measured phase did not end" :
	       "no measured phase";
}

static double cpu_us_per_frame(const struct run_state *s,
			       const struct run_cpu *c)
{
	return s->o->frames ? c->ns / 1e3 / s->o->frames : 0;
}

/* "kthread vnetloop-3, pid 123", "thread vcpu0, tid 456", "2 vCPU threads". */
static void cpu_who(const struct run_cpu *c)
{
	if (c->nids > 1) {
		printf("%u %ss %s, tids", c->nids, c->task, c->name);
		for (unsigned int i = 0; i < c->nids; i++)
			printf(" %d", c->ids[i]);
	} else if (!strcmp(c->dir, "/proc")) {
		printf("%s %s, pid %d", c->task, c->name, c->ids[0]);
	} else {
		printf("thread %s, tid %d", c->name, c->ids[0]);
	}
	if (c->ticks)
		printf("; from utime+stime, clock ticks");
}

static void cpu_text(const struct run_state *s, const char *label,
		     const struct run_cpu *c, bool inline_drain)
{
	const char *why = cpu_missing(c);
	double e = elapsed(s);

	printf("%s CPU: ", label);
	if (why) {
		printf("unavailable (%s)\n", why);
		return;
	}
	printf("%.3f us/frame (%.3f ms, %.1f%% of the measured phase; ",
	       cpu_us_per_frame(s, c), c->ns / 1e6,
	       e > 0 ? c->ns / 1e7 / e : 0);
	if (inline_drain)
		printf("inline: the drains run on the vCPU thread, ");
	cpu_who(c);
	printf(")\n");
}

static uint64_t total_exits(const struct run_state *s)
{
	uint64_t n = 0;

	for (int i = 0; i < VM_NR_EXIT_REASONS; i++)
		n += s->exits.reason[i];
	return n;
}

void run_report_text(const struct run_state *s)
{
	const struct vnl_guest_result *r = &s->res;
	const struct run_opts *o = s->o;

	if (o->kernel)
		printf("vnetloop run: backend %s, Linux guest, EVENT_IDX %s, %u vCPU%s, %u MiB\n",
		       s->backend_name, o->event_idx ? "on" : "off", o->vcpus,
		       o->vcpus > 1 ? "s" : "", o->mem_mib);
	else
		printf("vnetloop run: backend %s, scenario %s, %llu frames x %u bytes, batch %u, EVENT_IDX %s, %u vCPU%s, %u MiB\n",
		       s->backend_name, run_scenario_names[o->scenario],
		       (unsigned long long)o->frames, o->frame_size, o->batch,
		       o->event_idx ? "on" : "off", o->vcpus,
		       o->vcpus > 1 ? "s" : "", o->mem_mib);
	printf("result: %s (%s), exit status %d\n",
	       s->exit_code ? "FAILED" : "ok", s->why, s->exit_code);
	if (o->kernel)
		linux_guest_text(&s->guest_linux);
	if (s->have_result) {
		printf("frames: sent %llu, received %llu, verified %llu (%llu bytes), mismatches %llu\n",
		       (unsigned long long)r->frames_sent,
		       (unsigned long long)r->frames_received,
		       (unsigned long long)r->frames_verified,
		       (unsigned long long)r->bytes_verified,
		       (unsigned long long)r->mismatches);
		printf("elapsed: %.6f s for the measured %llu frames, %.0f frames/s\n",
		       elapsed(s), (unsigned long long)o->frames, rate(s));
		cpu_text(s, "device", &s->cpu_dev,
			 o->backend == VNL_BACKEND_INLINE);
		cpu_text(s, "vCPU", &s->cpu_vcpu, false);
		printf("interrupts taken by the guest: %llu (VRING %llu, CONFIG %llu, empty %llu); InterruptStatus reads %llu, ACKs %llu\n",
		       (unsigned long long)r->irqs,
		       (unsigned long long)r->irqs_vring,
		       (unsigned long long)r->irqs_config,
		       (unsigned long long)r->irqs_empty,
		       (unsigned long long)r->isr_reads,
		       (unsigned long long)r->isr_acks);
		printf("guest: kicks TX %llu, RX %llu; register accesses %llu; NEEDS_RESET seen %llu; resets %llu; features 0x%llx\n",
		       (unsigned long long)r->tx_kicks,
		       (unsigned long long)r->rx_kicks,
		       (unsigned long long)r->mmio_accesses,
		       (unsigned long long)r->needs_reset_seen,
		       (unsigned long long)r->resets,
		       (unsigned long long)r->features);
	}
	printf("vCPU exits: %llu\n", (unsigned long long)total_exits(s));
	for (int i = 0; i < VM_NR_EXIT_REASONS; i++)
		if (s->exits.reason[i])
			printf("  KVM_EXIT_%-16s %llu\n", vcpu_exit_name(i),
			       (unsigned long long)s->exits.reason[i]);
	for (int i = 0; i < VM_NR_IO_CLASSES; i++)
		if (s->exits.io[i])
			printf("    io %-20s %llu\n", io_names[i],
			       (unsigned long long)s->exits.io[i]);
	for (int i = 0; i < VM_NR_MMIO_SLOTS; i++) {
		if (s->exits.mmio_read[i])
			printf("    mmio read  %-16s %llu\n", slot_name(i),
			       (unsigned long long)s->exits.mmio_read[i]);
		if (s->exits.mmio_write[i])
			printf("    mmio write %-16s %llu\n", slot_name(i),
			       (unsigned long long)s->exits.mmio_write[i]);
	}
	if (!s->have_counters) {
		printf("device counters: unavailable\n");
		return;
	}
	if (s->dev_id >= 0)
		printf("device counters (%s, device %d, /sys/kernel/debug/vnetloop/%d/counters):\n",
		       s->backend_name, s->dev_id, s->dev_id);
	else
		printf("device counters (%s):\n", s->backend_name);
	for (unsigned int i = 0; i < s->ncounters; i++) {
		bool spec = i < VNETLOOP_NUM_SPEC_COUNTERS;

		printf("  %-24s %12llu", counter_names[i],
		       (unsigned long long)s->counters[i]);
		if (spec && s->have_result &&
		    s->counters[i] != r->expect[i])
			printf("   (guest expects %llu)",
			       (unsigned long long)r->expect[i]);
		printf("\n");
	}
	if (s->have_result)
		printf("counter check: %s\n", s->counters_match ?
		       "the 13 device counters match the guest's count" :
		       "MISMATCH");
}

static void json_u64(const char *k, uint64_t v, bool comma)
{
	printf("\"%s\":%llu%s", k, (unsigned long long)v, comma ? "," : "");
}

/* s as a JSON string literal on stdout. */
void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_guest(const struct vnl_guest_result *r)
{
	printf("\"guest\":{");
	json_u64("features", r->features, true);
	json_u64("frames_sent", r->frames_sent, true);
	json_u64("frames_received", r->frames_received, true);
	json_u64("frames_verified", r->frames_verified, true);
	json_u64("bytes_verified", r->bytes_verified, true);
	json_u64("mismatches", r->mismatches, true);
	json_u64("failures", r->failures, true);
	json_u64("irqs", r->irqs, true);
	json_u64("irqs_vring", r->irqs_vring, true);
	json_u64("irqs_config", r->irqs_config, true);
	json_u64("irqs_empty", r->irqs_empty, true);
	json_u64("isr_reads", r->isr_reads, true);
	json_u64("isr_acks", r->isr_acks, true);
	json_u64("tx_kicks", r->tx_kicks, true);
	json_u64("rx_kicks", r->rx_kicks, true);
	json_u64("timer_ticks", r->timer_ticks, true);
	json_u64("needs_reset_seen", r->needs_reset_seen, true);
	json_u64("resets", r->resets, true);
	json_u64("mmio_accesses", r->mmio_accesses, true);
	json_u64("aps_online", r->aps_online, false);
	printf("},\"expected\":{");
	for (int i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++)
		json_u64(counter_names[i], r->expect[i],
			 i + 1 < VNETLOOP_NUM_SPEC_COUNTERS);
	printf("},");
}

static void json_cpu(const struct run_state *s, const char *key,
		     const struct run_cpu *c)
{
	const char *why = cpu_missing(c);

	printf("\"%s\":{\"task\":", key);
	if (c->task)
		json_string(c->task);
	else
		printf("null");
	printf(",\"name\":");
	json_string(c->name);
	printf(",\"tids\":[");
	for (unsigned int i = 0; i < c->nids; i++)
		printf("%s%d", i ? "," : "", c->ids[i]);
	printf("],\"source\":\"%s\",", c->ticks ? "stat" : "schedstat");
	if (why) {
		printf("\"ns\":null,\"us_per_frame\":null,\"error\":");
		json_string(why);
		printf("}");
		return;
	}
	printf("\"ns\":%llu,\"us_per_frame\":%.4f}", (unsigned long long)c->ns,
	       cpu_us_per_frame(s, c));
}

static void json_exits(const struct vm_exit_stats *e)
{
	bool first = true;

	printf("\"exits\":{");
	for (int i = 0; i < VM_NR_EXIT_REASONS; i++) {
		if (!e->reason[i])
			continue;
		printf("%s\"%s\":%llu", first ? "" : ",", vcpu_exit_name(i),
		       (unsigned long long)e->reason[i]);
		first = false;
	}
	printf("},\"io\":{");
	for (int i = 0; i < VM_NR_IO_CLASSES; i++)
		json_u64(io_names[i], e->io[i], i + 1 < VM_NR_IO_CLASSES);
	printf("},\"mmio\":{");
	first = true;
	for (int i = 0; i < VM_NR_MMIO_SLOTS; i++) {
		if (!e->mmio_read[i] && !e->mmio_write[i])
			continue;
		printf("%s\"%s\":{\"read\":%llu,\"write\":%llu}",
		       first ? "" : ",", slot_name(i),
		       (unsigned long long)e->mmio_read[i],
		       (unsigned long long)e->mmio_write[i]);
		first = false;
	}
	printf("},");
}

void run_report_json(const struct run_state *s)
{
	const struct run_opts *o = s->o;

	printf("{\"backend\":\"%s\",\"scenario\":\"%s\",", s->backend_name,
	       run_scenario_names[o->scenario]);
	json_u64("frames", o->frames, true);
	json_u64("frame_size", o->frame_size, true);
	json_u64("batch", o->batch, true);
	printf("\"event_idx\":%s,", o->event_idx ? "true" : "false");
	json_u64("vcpus", o->vcpus, true);
	json_u64("mem_mib", o->mem_mib, true);
	printf("\"exit_code\":%d,\"result\":", s->exit_code);
	json_string(s->why);
	printf(",\"elapsed_s\":%.6f,\"frames_per_s\":%.1f,", elapsed(s),
	       rate(s));
	if (s->dev_id >= 0)
		printf("\"device_id\":%d,", s->dev_id);
	if (o->kernel)
		linux_guest_json(&s->guest_linux);
	if (s->have_result)
		json_guest(&s->res);
	printf("\"cpu\":{");
	json_cpu(s, "device", &s->cpu_dev);
	printf(",");
	json_cpu(s, "vcpu", &s->cpu_vcpu);
	printf("},");
	json_exits(&s->exits);
	printf("\"isr_empty_reads\":%llu,",
	       (unsigned long long)s->isr_empty_reads);
	json_u64("exits_total", total_exits(s), true);
	printf("\"counters\":{");
	for (unsigned int i = 0; s->have_counters && i < s->ncounters; i++)
		json_u64(counter_names[i], s->counters[i], i + 1 < s->ncounters);
	printf("},\"counters_match\":%s}\n",
	       s->counters_match ? "true" : "false");
}
