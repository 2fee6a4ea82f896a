// SPDX-License-Identifier: GPL-2.0
/*
 * The 8250/16550A UART model behind COM1. Transmission is instant: a byte
 * written to THR goes to the output buffer (or, in loopback mode, to the
 * receive FIFO) and THR is empty again at once, which raises the THRE
 * interrupt when it is enabled. The interrupt output follows the 16550's
 * priorities and is gated by MCR.OUT2, as on a PC.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "user/vmm/serial.h"

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_RDI		0x01
#define IER_THRI	0x02
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0
#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define LCR_DLAB	0x80
#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

void serial_init(struct serial *s, int out_fd,
		 void (*irq)(void *opaque, int level), void *opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->out_fd = out_fd;
	s->irq = irq;
	s->opaque = opaque;
	s->mcr = MCR_OUT2;
	s->dll = 12;		/* 9600 baud */
}

void serial_destroy(struct serial *s)
{
	serial_flush(s);
	pthread_mutex_destroy(&s->lock);
}

static void serial_flush_locked(struct serial *s)
{
	unsigned int off = 0;

	if (s->tap && s->buf_len)
		s->tap(s->tap_opaque, s->buf, s->buf_len);
	while (off < s->buf_len) {
		ssize_t n = write(s->out_fd, s->buf + off, s->buf_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* the console is gone: drop the output */
		off += n;
	}
	s->buf_len = 0;
}

void serial_flush(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	serial_flush_locked(s);
	pthread_mutex_unlock(&s->lock);
}

static uint8_t serial_iir(const struct serial *s)
{
	uint8_t fifo = s->fcr & FCR_ENABLE ? IIR_FIFO : 0;

	if ((s->ier & IER_RDI) && s->rx_count)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thr_irq)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

static void serial_update_irq(struct serial *s)
{
	bool level = !(serial_iir(s) & IIR_NO_INT) && (s->mcr & MCR_OUT2);

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->irq)
		s->irq(s->opaque, level);
}

static void serial_rx_push(struct serial *s, uint8_t v)
{
	if (s->rx_count == SERIAL_FIFO_SIZE)
		return;		/* overrun: the byte is lost */
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = v;
	s->rx_count++;
}

static void serial_tx(struct serial *s, uint8_t v)
{
	/* THR taken: the line drops, then rises again when it is empty. */
	s->thr_irq = false;
	serial_update_irq(s);
	if (s->mcr & MCR_LOOP) {
		serial_rx_push(s, v);
	} else {
		s->buf[s->buf_len++] = v;
		if (v == '\n' || s->buf_len == sizeof(s->buf))
			serial_flush_locked(s);
	}
	s->thr_irq = true;
}

static uint8_t serial_msr(const struct serial *s)
{
	uint8_t m = s->mcr;

	if (!(m & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return (m & MCR_OUT2 ? MSR_DCD : 0) | (m & MCR_OUT1 ? MSR_RI : 0) |
	       (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_RTS ? MSR_CTS : 0);
}

uint8_t serial_in(struct serial *s, unsigned int off)
{
	uint8_t v = 0;

	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB) {
			v = s->dll;
		} else if (s->rx_count) {
			v = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
			s->rx_count--;
		}
		break;
	case UART_IER:
		v = s->lcr & LCR_DLAB ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		v = serial_iir(s);
		/* Reading IIR that reports THRE clears that interrupt. */
		if ((v & 0x0f) == IIR_THRI)
			s->thr_irq = false;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		v = serial_msr(s);
		break;
	case UART_SCR:
		v = s->scr;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

void serial_out(struct serial *s, unsigned int off, uint8_t v)
{
	pthread_mutex_lock(&s->lock);
	switch (off) {
	case UART_RBR_THR:
		if (s->lcr & LCR_DLAB)
			s->dll = v;
		else
			serial_tx(s, v);
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with THR empty raises it at once. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thr_irq = true;
		s->ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		s->fcr = v & (FCR_ENABLE | 0xc0);
		if (v & FCR_CLEAR_RX)
			s->rx_count = 0;
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		break;
	case UART_SCR:
		s->scr = v;
		break;
	}
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}
