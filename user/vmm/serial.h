/* SPDX-License-Identifier: GPL-2.0 */
/*
 * COM1: an 8250/16550A UART at I/O port 0x3f8, IRQ 4, whose output goes to a
 * file descriptor. Enough for the built-in guest and for a Linux console:
 * divisor latch, IER/IIR with THRE and receive interrupts, FIFO control,
 * LSR, MSR (with loopback), scratch register.
 */
#ifndef VNL_SERIAL_H
#define VNL_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define SERIAL_COM1_PORT	0x3f8
#define SERIAL_COM1_IRQ		4
#define SERIAL_NR_PORTS		8
#define SERIAL_FIFO_SIZE	16

struct serial {
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_irq;		/* THR-empty interrupt pending */
	bool irq_level;		/* the line as last driven */
	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned int rx_head, rx_count;
	int out_fd;
	char buf[256];
	unsigned int buf_len;
	/* Drive the interrupt line (level 0/1); may be NULL. */
	void (*irq)(void *opaque, int level);
	void *opaque;
	/* Sees all output as it is written out, under the lock; may be NULL
	 * (a Linux guest's verdict comes over its console). */
	void (*tap)(void *tap_opaque, const char *buf, unsigned int len);
	void *tap_opaque;
};

void serial_init(struct serial *s, int out_fd,
		 void (*irq)(void *opaque, int level), void *opaque);
void serial_destroy(struct serial *s);
/* off: 0..7 from the base port. */
uint8_t serial_in(struct serial *s, unsigned int off);
void serial_out(struct serial *s, unsigned int off, uint8_t v);
/* Write out what is buffered. */
void serial_flush(struct serial *s);

#endif /* VNL_SERIAL_H */
