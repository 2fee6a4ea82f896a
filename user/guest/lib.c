// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's little library: memory helpers the compiler may call, a COM1
 * console (polled, as early Linux consoles are), a small printf, and the
 * ucall channel to the VMM.
 */
#include "guest.h"

#define COM1		0x3f8
#define LSR_THRE	0x20
#define UART_FIFO	16	/* bytes THR takes once THRE is seen (16550A) */
#define MAX_FAIL_MSGS	16

void *memset(void *s, int c, size_t n)
{
	u8 *p = s;

	while (n--)
		*p++ = (u8)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void serial_init(void)
{
	outb(COM1 + 1, 0x00);	/* no interrupts */
	outb(COM1 + 3, 0x80);	/* DLAB */
	outb(COM1 + 0, 0x01);	/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	outb(COM1 + 2, 0x07);	/* FIFO on, cleared */
}

/* Like the 8250 driver: once THR is empty, fill the FIFO. */
static void serial_write(const char *s)
{
	while (*s) {
		while (!(inb(COM1 + 5) & LSR_THRE))
			;
		for (int i = 0; i < UART_FIFO && *s; i++)
			outb(COM1, *s++);
	}
}

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
}

static void put_num(struct buf *b, u64 v, unsigned int base, bool neg)
{
	char tmp[24];
	int n = 0;

	if (neg)
		put(b, '-');
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put(b, tmp[--n]);
}

static size_t vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
	struct buf b = { out, 0, cap };

	for (; *fmt; fmt++) {
		bool lng = false;
		const char *s;
		u64 v;

		if (*fmt != '%') {
			put(&b, *fmt);
			continue;
		}
		while (*++fmt == 'l')
			lng = true;
		switch (*fmt) {
		case 'd': {
			long long x = lng ? va_arg(ap, long long) :
					    va_arg(ap, int);

			put_num(&b, x < 0 ? -(u64)x : (u64)x, 10, x < 0);
			break;
		}
		case 'u':
		case 'x':
			v = lng ? va_arg(ap, unsigned long long) :
				  va_arg(ap, unsigned int);
			put_num(&b, v, *fmt == 'x' ? 16 : 10, false);
			break;
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				put(&b, *s);
			break;
		case '%':
			put(&b, '%');
			break;
		default:
			put(&b, '?');
			break;
		}
	}
	b.p[b.len] = 0;
	return b.len;
}

void printf(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	serial_write(line);
}

void ucall(u32 cmd, u64 a0, u64 a1)
{
	struct vnl_ucall uc = { .cmd = cmd, .arg = { a0, a1, 0 } };

	/* The struct is on the stack, identity mapped below 4 GiB. */
	outl(VNL_UCALL_PORT, (u32)(uintptr_t)&uc);
}

void fail(const char *fmt, ...)
{
	char msg[192];
	va_list ap;
	size_t n;

	result.failures++;
	if (result.failures > MAX_FAIL_MSGS)
		return;
	va_start(ap, fmt);
	n = vformat(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ucall(VNL_UCALL_FAIL, (uintptr_t)msg, n);
}
