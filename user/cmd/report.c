// SPDX-License-Identifier: GPL-2.0
/*
 * The summary of `vnetloop run`, as text or as one JSON object (print.h).
 * The text is sentences in the order a reader wants them; the JSON has its
 * members in the order Documentation/vmm.rst shows. Where the two follow
 * each other one call writes both, elsewhere a call is for one of them.
 */
#include <inttypes.h>
#include <string.h>

#include "user/cmd/print.h"
#include "user/cmd/run.h"
#include "user/vmm/nic.h"
#include "user/nl/parse.h"

static const char *const io_names[VM_NR_IO_CLASSES] = {
	[VM_IO_SERIAL] = "serial", [VM_IO_UCALL] = "ucall",
	[VM_IO_KBD] = "kbd", [VM_IO_OTHER] = "other", [VM_IO_PCI] = "pci",
};


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
		print_text("%u %ss %s, tids", c->nids, c->task, c->name);
		for (unsigned int i = 0; i < c->nids; i++)
			print_text(" %d", c->ids[i]);
	} else if (!strcmp(c->dir, "/proc")) {
		print_text("%s %s, pid %d", c->task, c->name, c->ids[0]);
	} else {
		print_text("thread %s, tid %d", c->name, c->ids[0]);
	}
	if (c->ticks)
		print_text("; from utime+stime, clock ticks");
}

/* Text: "device CPU: ..." and "vCPU CPU: ...". */
static void cpu_text(const struct run_state *s, const char *label,
		     const struct run_cpu *c, bool inline_drain)
{
	const char *why = cpu_missing(c);
	double e = elapsed(s);

	print_text("%s CPU: ", label);
	if (why) {
		print_text("unavailable (%s)\n", why);
		return;
	}
	print_text("%.3f us/frame (%.3f ms, %.1f%% of the measured phase; ",
		   cpu_us_per_frame(s, c), c->ns / 1e6,
		   e > 0 ? c->ns / 1e7 / e : 0);
	if (inline_drain)
		print_text("inline: the drains run on the vCPU thread, ");
	cpu_who(c);
	print_text(")\n");
}

/* JSON: "device" and "vcpu" in "cpu". */
static void cpu_json(const struct run_state *s, const char *key,
		     const struct run_cpu *c)
{
	const char *why = cpu_missing(c);

	open_object(key);
	print_string("task", NULL, c->task);
	print_string("name", NULL, c->name);
	open_array("tids");
	for (unsigned int i = 0; i < c->nids; i++)
		print_s64(NULL, NULL, c->ids[i]);
	close_array();
	print_string("source", NULL, c->ticks ? "stat" : "schedstat");
	if (why) {
		print_null("ns");
		print_null("us_per_frame");
		print_string("error", NULL, why);
	} else {
		print_u64("ns", NULL, c->ns);
		print_float("us_per_frame", 4, NULL, cpu_us_per_frame(s, c));
	}
	close_object();
}

static uint64_t exits_sum(const struct vm_exit_stats *e)
{
	uint64_t n = 0;

	for (int i = 0; i < VM_NR_EXIT_REASONS; i++)
		n += e->reason[i];
	return n;
}

/*
 * The measured phase (struct run_phase): every count is its change between
 * the guest's two marks; one that cannot be had is null, never a zero.
 */

/* KVM's own statistics the per-frame breakdown names, where KVM has them. */
static const char *const phase_kvm_reasons[] = {
	"io_exits", "mmio_exits", "halt_exits", "irq_exits",
	"irq_window_exits", "signal_exits",
};

/* Whether there is a phase: the built-in guest's two marks both came. */
static bool phase_valid(const struct run_state *s)
{
	return !s->o->kernel && s->phase.ended;
}

/* KVM statistic name over the phase; false when KVM has none such. */
static bool phase_kvm(const struct run_state *s, const char *name,
		      uint64_t *v)
{
	int i;

	if (!s->phase.have_kvm)
		return false;
	i = kvm_stats_find(&s->phase.kvm, name);
	if (i < 0)
		return false;
	*v = s->phase.kvm_delta[i];
	return true;
}

static const char *phase_kvm_missing(const struct run_state *s)
{
	const struct run_phase *p = &s->phase;

	if (p->have_kvm)
		return NULL;
	return p->kvm_error[0] ? p->kvm_error :
	       "the KVM statistics were not read at both marks";
}

/* Device counter id over the phase; false when the device lacks it. */
static bool phase_dev(const struct run_state *s, unsigned int id,
		      uint64_t *v)
{
	const struct run_phase *p = &s->phase;

	if (!p->have_dev || id >= p->ndev)
		return false;
	*v = p->dev[id];
	return true;
}

/* The device's numbers over the phase, false where it has none. */
struct phase_dev_nums {
	bool have_kicks, have_irqs, have_drains, have_tx, have_ns;
	uint64_t kicks, irqs, drains, tx, ns;
};

static void phase_dev_nums(const struct run_state *s,
			   struct phase_dev_nums *d)
{
	*d = (struct phase_dev_nums) { 0 };
	d->have_kicks = phase_dev(s, VNETLOOP_C_KICKS, &d->kicks);
	d->have_irqs = phase_dev(s, VNETLOOP_C_INTERRUPTS, &d->irqs);
	d->have_drains = phase_dev(s, VNETLOOP_C_WORKER_RUNS, &d->drains);
	d->have_tx = phase_dev(s, VNETLOOP_C_TX_PACKETS, &d->tx);
	d->have_ns = phase_dev(s, VNETLOOP_C_DRAIN_NS, &d->ns);
}

static void phase_u64(const char *key, bool have, uint64_t v)
{
	if (have)
		print_u64(key, NULL, v);
	else
		print_null(key);
}

/* num / den, or null without the numbers or with den 0. */
static void phase_ratio(const char *key, int prec, bool have, double num,
			double den)
{
	if (have && den > 0)
		print_float(key, prec, NULL, num / den);
	else
		print_null(key);
}

/* Text: "LABEL N (R/frame)" or "LABEL unavailable". */
static void phase_text_count(const char *label, bool have, uint64_t v,
			     double frames)
{
	if (have)
		print_text("%s %" PRIu64 " (%.4f/frame)", label, v, v / frames);
	else
		print_text("%s unavailable", label);
}

/* Text: three lines, the VM's, the device's and the guest's. */
static void phase_text(const struct run_state *s)
{
	const struct run_phase *p = &s->phase;
	const struct vnl_guest_result *r = &s->res;
	double f = s->o->frames;
	struct phase_dev_nums d;
	const char *sep = ": ";
	uint64_t v = 0;

	if (!phase_valid(s)) {
		print_text("phase: none (the guest's two marks did not both come)\n");
		return;
	}
	print_text("phase: %" PRIu64 " frames in %.6f s; ", s->o->frames,
		   elapsed(s));
	if (!phase_kvm(s, "exits", &v)) {
		print_text("KVM exits unavailable (%s)",
			   p->have_kvm ? "KVM has no \"exits\" statistic" :
			   phase_kvm_missing(s));
	} else {
		print_text("KVM exits %" PRIu64 " (%.4f/frame", v, v / f);
		for (size_t i = 0; i < sizeof(phase_kvm_reasons) /
					sizeof(phase_kvm_reasons[0]); i++) {
			const char *n = phase_kvm_reasons[i];

			if (!phase_kvm(s, n, &v))
				continue;
			print_text("%s%.*s %.4f", sep,
				   (int)(strlen(n) - strlen("_exits")), n,
				   v / f);
			sep = ", ";
		}
		print_text(")");
	}
	print_text("; VMM exits %" PRIu64 "\n", exits_sum(&p->vmm));

	phase_dev_nums(s, &d);
	print_text("phase device: ");
	phase_text_count("kicks", d.have_kicks, d.kicks, f);
	print_text(", ");
	phase_text_count("interrupts", d.have_irqs, d.irqs, f);
	print_text(", ");
	if (d.have_drains && d.have_tx && d.drains)
		print_text("drains %" PRIu64 " (%.2f frames/drain)", d.drains,
			   (double)d.tx / d.drains);
	else if (d.have_drains)
		print_text("drains %" PRIu64, d.drains);
	else
		print_text("drains unavailable");
	if (d.have_ns)
		print_text(", drain time %.4f us/frame\n", d.ns / 1e3 / f);
	else
		print_text(", drain time unavailable\n");

	print_text("phase guest: ");
	phase_text_count("interrupts", true, r->phase_irqs, f);
	print_text(", kicks TX %" PRIu64 " + RX %" PRIu64 " (%.4f/frame)\n",
		   r->phase_tx_kicks, r->phase_rx_kicks,
		   (r->phase_tx_kicks + r->phase_rx_kicks) / f);
}

/* JSON: "phase", null without one. */
static void phase_json(const struct run_state *s)
{
	const struct run_phase *p = &s->phase;
	const struct vnl_guest_result *r = &s->res;
	double f = s->o->frames;
	struct phase_dev_nums d;
	bool g = s->have_result;
	uint64_t v = 0;
	bool have;

	if (!phase_valid(s)) {
		print_null("phase");
		return;
	}
	open_object("phase");
	print_u64("frames", NULL, s->o->frames);
	print_float("elapsed_s", 6, NULL, elapsed(s));
	if (p->have_kvm) {
		open_object("kvm");
		for (unsigned int i = 0; i < p->kvm.n; i++)
			print_u64(kvm_stats_name(&p->kvm, i), NULL,
				  p->kvm_delta[i]);
		close_object();
	} else {
		print_null("kvm");
	}
	print_string("kvm_error", NULL, phase_kvm_missing(s));
	have = phase_kvm(s, "exits", &v);
	phase_ratio("exits_per_frame", 6, have, v, f);
	if (p->have_kvm) {
		open_object("exits_per_frame_by_reason");
		for (size_t i = 0; i < sizeof(phase_kvm_reasons) /
					sizeof(phase_kvm_reasons[0]); i++)
			if (phase_kvm(s, phase_kvm_reasons[i], &v))
				print_float(phase_kvm_reasons[i], 6, NULL,
					    v / f);
		close_object();
	} else {
		print_null("exits_per_frame_by_reason");
	}
	open_object("vmm_exits");
	for (int i = 0; i < VM_NR_EXIT_REASONS; i++)
		if (p->vmm.reason[i])
			print_u64(vcpu_exit_name(i), NULL, p->vmm.reason[i]);
	close_object();
	print_u64("vmm_exits_total", NULL, exits_sum(&p->vmm));

	phase_dev_nums(s, &d);
	phase_u64("kicks", d.have_kicks, d.kicks);
	phase_u64("interrupts", d.have_irqs, d.irqs);
	phase_u64("drains", d.have_drains, d.drains);
	phase_ratio("frames_per_drain", 3, d.have_drains && d.have_tx, d.tx,
		    d.drains);
	phase_ratio("kicks_per_frame", 6, d.have_kicks, d.kicks, f);
	phase_ratio("irqs_per_frame", 6, d.have_irqs, d.irqs, f);
	phase_u64("drain_ns", d.have_ns, d.ns);
	phase_ratio("drain_us_per_frame", 4, d.have_ns, d.ns / 1e3, f);

	/* The guest's own count: the same on every backend. */
	phase_u64("guest_irqs", g, r->phase_irqs);
	phase_u64("guest_tx_kicks", g, r->phase_tx_kicks);
	phase_u64("guest_rx_kicks", g, r->phase_rx_kicks);
	phase_ratio("guest_irqs_per_frame", 6, g, r->phase_irqs, f);
	phase_ratio("guest_kicks_per_frame", 6, g,
		    r->phase_tx_kicks + r->phase_rx_kicks, f);
	close_object();
}

/* The first line, the result and the run's JSON members before "linux". */
static void report_head(const struct run_state *s)
{
	const struct run_opts *o = s->o;
	/* A Linux guest's line has no scenario, frames, size or batch. */
	bool b = !o->kernel;

	print_string("backend", "vnetloop run: backend %s", s->backend_name);
	print_string("transport", ", transport %s",
		     run_transport_names[o->transport]);
	if (o->kernel)
		print_text(", Linux guest");
	print_string("scenario", b ? ", scenario %s" : NULL,
		     run_scenario_names[o->scenario]);
	print_u64("frames", b ? ", %" PRIu64 " frames" : NULL, o->frames);
	print_u64("frame_size", b ? " x %" PRIu64 " bytes" : NULL,
		  o->frame_size);
	print_u64("batch", b ? ", batch %" PRIu64 : NULL, o->batch);
	print_string("check", b && o->check_sample ? ", check %s" : NULL,
		     o->check_sample ? "sample" : "full");
	print_bool("event_idx", NULL, o->event_idx);
	print_text(", EVENT_IDX %s", o->event_idx ? "on" : "off");
	print_u64("vcpus", ", %" PRIu64 " vCPU", o->vcpus);
	print_text("%s", o->vcpus > 1 ? "s" : "");
	print_u64("mem_mib", ", %" PRIu64 " MiB\n", o->mem_mib);

	print_s64("exit_code", NULL, s->exit_code);
	print_text("result: %s ", s->exit_code ? "FAILED" : "ok");
	print_string("result", "(%s)", s->why);
	print_text(", exit status %d\n", s->exit_code);
	print_float("elapsed_s", 6, NULL, elapsed(s));
	print_float("frames_per_s", 1, NULL, rate(s));
	if (s->dev_id >= 0)
		print_s64("device_id", NULL, s->dev_id);
}

/* With --kernel: what the Linux guest said. */
static void report_linux(const struct linux_guest *g)
{
	open_object("linux");
	print_string("kernel", "linux guest: %s", g->kernel);
	print_string("initrd", ", initrd %s", g->initrd);
	print_text("\n");
	print_string("cmdline", "command line: %s\n", g->cmdline);
	print_string("panic", NULL, g->panicked ? g->panic : NULL);
	print_string("result", "guest result: %s", !g->have_result ? "none" :
		     g->passed ? "PASS" : "FAIL");
	if (g->have_result)
		print_s64("rc", " rc=%" PRId64, g->rc);
	else
		print_null("rc");
	print_text("\n");
	if (g->panicked)
		print_text("guest panic: %s\n", g->panic);
	close_object();
}

/* The built-in guest's result; the text has the times in the middle. */
static void report_guest(const struct run_state *s)
{
	const struct vnl_guest_result *r = &s->res;
	const struct run_opts *o = s->o;

	open_object("guest");
	print_u64("features", NULL, r->features);
	print_u64("frames_sent", "frames: sent %" PRIu64, r->frames_sent);
	print_u64("frames_received", ", received %" PRIu64,
		  r->frames_received);
	print_u64("frames_verified", ", verified %" PRIu64,
		  r->frames_verified);
	print_u64("bytes_verified", " (%" PRIu64 " bytes)", r->bytes_verified);
	print_u64("mismatches", ", mismatches %" PRIu64 "\n", r->mismatches);
	print_u64("failures", NULL, r->failures);
	print_text("elapsed: %.6f s for the measured %" PRIu64 " frames, %.0f frames/s\n",
		   elapsed(s), o->frames, rate(s));
	cpu_text(s, "device", &s->cpu_dev, o->backend == VNL_BACKEND_INLINE);
	cpu_text(s, "vCPU", &s->cpu_vcpu, false);
	phase_text(s);
	print_u64("irqs", "interrupts taken by the guest: %" PRIu64, r->irqs);
	print_u64("irqs_vring", " (VRING %" PRIu64, r->irqs_vring);
	print_u64("irqs_config", ", CONFIG %" PRIu64, r->irqs_config);
	print_u64("irqs_empty", ", empty %" PRIu64 ")", r->irqs_empty);
	print_u64("isr_reads", "; InterruptStatus reads %" PRIu64, r->isr_reads);
	print_u64("isr_acks", ", ACKs %" PRIu64 "\n", r->isr_acks);
	print_u64("tx_kicks", "guest: kicks TX %" PRIu64, r->tx_kicks);
	print_u64("rx_kicks", ", RX %" PRIu64, r->rx_kicks);
	print_u64("timer_ticks", NULL, r->timer_ticks);
	print_text("; register accesses %" PRIu64, r->mmio_accesses);
	print_u64("needs_reset_seen", "; NEEDS_RESET seen %" PRIu64,
		  r->needs_reset_seen);
	print_u64("resets", "; resets %" PRIu64, r->resets);
	print_u64("mmio_accesses", NULL, r->mmio_accesses);
	print_u64("aps_online", NULL, r->aps_online);
	print_text("; features 0x%" PRIx64 "\n", r->features);
	close_object();
	open_object("expected");
	for (int i = 0; i < VNETLOOP_NUM_SPEC_COUNTERS; i++)
		print_u64(vnl_counter_name(i), NULL, r->expect[i]);
	close_object();
}

/* vCPU exits by reason, port I/O by device, MMIO by register. */
static void report_exits(const struct vm_exit_stats *e, uint64_t total,
			 enum vnl_transport t)
{
	static const char *const mmio_fmt[] = {
		"    mmio read  %-16s ", "    mmio write %-16s ",
	};

	print_text("vCPU exits: %" PRIu64 "\n", total);
	open_object("exits");
	for (int i = 0; i < VM_NR_EXIT_REASONS; i++) {
		if (!e->reason[i])
			continue;
		print_text("  KVM_EXIT_%-16s ", vcpu_exit_name(i));
		print_u64(vcpu_exit_name(i), "%" PRIu64 "\n", e->reason[i]);
	}
	close_object();
	/* JSON has every class, the text those with exits. */
	open_object("io");
	for (int i = 0; i < VM_NR_IO_CLASSES; i++) {
		if (e->io[i])
			print_text("    io %-20s ", io_names[i]);
		print_u64(io_names[i], e->io[i] ? "%" PRIu64 "\n" : NULL,
			  e->io[i]);
	}
	close_object();
	open_object("mmio");
	for (int i = 0; i < VM_NR_MMIO_SLOTS; i++) {
		const uint64_t n[] = { e->mmio_read[i], e->mmio_write[i] };
		static const char *const keys[] = { "read", "write" };
		const char *name = nic_slot_name(t, i);

		if (!n[0] && !n[1])
			continue;
		if (!name)
			name = "unnamed";
		open_object(name);
		for (int k = 0; k < 2; k++) {
			if (n[k])
				print_text(mmio_fmt[k], name);
			print_u64(keys[k], n[k] ? "%" PRIu64 "\n" : NULL, n[k]);
		}
		close_object();
	}
	close_object();
}

/*
 * Where each vCPU was at the end. The text shows it only for a VM stopped
 * by a signal (a timeout), where it says where the guest hung.
 */
static void report_stopped(const struct run_state *s)
{
	bool text = s->exit_code == VM_EXIT_SIGINT ||
		    s->exit_code == VM_EXIT_SIGTERM;

	open_array("vcpu_stopped");
	for (unsigned int i = 0; i < s->nvcpus; i++) {
		const struct vcpu_stop_state *st = &s->stopped[i];
		char rip[24], flags[24];

		if (!st->valid)
			continue;
		open_object(NULL);
		if (text)
			print_text("vCPU %u stopped at ", i);
		print_u64("vcpu", NULL, i);
		/* Strings: JSON readers lose the low bits of a kernel address. */
		snprintf(rip, sizeof(rip), "0x%" PRIx64, st->rip);
		snprintf(flags, sizeof(flags), "0x%" PRIx64, st->rflags);
		print_string("rip", text ? "RIP %s" : NULL, rip);
		print_string("rflags", text ? ", RFLAGS %s" : NULL, flags);
		print_bool("halted", NULL, st->halted);
		if (text)
			print_text("%s\n", st->halted ?
				   ", halted (waiting for an interrupt)" : "");
		close_object();
	}
	close_array();
}

/*
 * A device of more than one queue pair: each pair's packets in the text,
 * every counter in the JSON ("per_queue", an object per pair).
 */
static void report_pairs(const struct run_state *s)
{
	if (!s->npairs)
		return;
	open_array("per_queue");
	for (unsigned int p = 0; p < s->npairs; p++) {
		const uint64_t *c = s->pair_counters[p];

		open_object(NULL);
		print_u64("pair", "  pair %" PRIu64 ":", p);
		for (unsigned int i = 0; i < s->ncounters; i++)
			print_u64(vnl_counter_name(i),
				  i == VNETLOOP_C_TX_PACKETS ?
				  " tx_packets %" PRIu64 :
				  i == VNETLOOP_C_RX_PACKETS ?
				  " rx_packets %" PRIu64 : NULL, c[i]);
		print_text("\n");
		close_object();
	}
	close_array();
}

/* The device's counters, and whether they are what the guest counted. */
static void report_counters(const struct run_state *s)
{
	const struct vnl_guest_result *r = &s->res;

	if (!s->have_counters)
		print_text("device counters: unavailable\n");
	else if (s->dev_id >= 0)
		print_text("device counters (%s, device %d, read over netlink):\n",
			   s->backend_name, s->dev_id);
	else
		print_text("device counters (%s):\n", s->backend_name);
	open_object("counters");
	for (unsigned int i = 0; s->have_counters && i < s->ncounters; i++) {
		print_text("  %-24s ", vnl_counter_name(i));
		print_u64(vnl_counter_name(i), "%12" PRIu64, s->counters[i]);
		if (i < VNETLOOP_NUM_SPEC_COUNTERS && s->have_result &&
		    s->counters[i] != r->expect[i])
			print_text("   (guest expects %" PRIu64 ")",
				   r->expect[i]);
		print_text("\n");
	}
	close_object();
	if (s->have_counters && s->have_result && s->counters_match)
		print_text("counter check: the %u device counters match the guest's count\n",
			   s->nmatch);
	else if (s->have_counters && s->have_result)
		print_text("counter check: MISMATCH\n");
	/* A Linux guest keeps no count of its own to compare with. */
	if (s->have_result)
		print_bool("counters_match", NULL, s->counters_match);
	else
		print_null("counters_match");
	report_pairs(s);
}

void run_report(const struct run_state *s)
{
	open_object(NULL);
	report_head(s);
	if (s->o->kernel)
		report_linux(&s->guest_linux);
	if (s->have_result)
		report_guest(s);
	open_object("cpu");
	cpu_json(s, "device", &s->cpu_dev);
	cpu_json(s, "vcpu", &s->cpu_vcpu);
	close_object();
	phase_json(s);
	report_exits(&s->exits, exits_sum(&s->exits), s->o->transport);
	print_u64("isr_empty_reads", NULL, s->isr_empty_reads);
	print_u64("exits_total", NULL, exits_sum(&s->exits));
	report_stopped(s);
	report_counters(s);
	close_object();
}
