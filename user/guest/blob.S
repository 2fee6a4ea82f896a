/* SPDX-License-Identifier: GPL-2.0 */
/* The built-in guest's flat binary, embedded in the vnetloop program. */
	.section .rodata.vnl_guest, "a"
	.balign	16
	.globl	vnl_guest_image
	.globl	vnl_guest_image_end
vnl_guest_image:
	.incbin	GUEST_BIN
vnl_guest_image_end:

	.section .note.GNU-stack, "", @progbits
