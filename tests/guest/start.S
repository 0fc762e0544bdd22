/* start.S — the test guest's two entry points.
 *
 * pvh_entry:   Xen PVH ABI — 32-bit protected mode, paging off, %ebx = the
 *              hvm_start_info.  We build identity page tables (0-4 GiB, 2 MiB
 *              pages), switch to long mode ourselves, and call guest_main.
 * entry64:     Linux 64-bit boot protocol (the bzImage form) — long mode on
 *              the VMM's identity tables, %rsi = boot_params.
 * The bzImage entry clears .bss (its loader copies only the file); an ELF
 * loader zeroes it for the PVH entry.
 * No IDT is ever loaded and interrupts stay off: the guest polls.
 */
#define BOOT_PVH 1
#define BOOT_LINUX 2

        .section .head, "ax"
        .code32
        .globl image_head
image_head:
        /* 32-bit protocol entry (unused by berth-vmm): treat like PVH. */
        jmp pvh_entry
        .org 0x200
        .code64
        .globl entry64
entry64:
        cli
        cld
        movq %rsi, %r12
        /* First sign of life before touching any memory (the benchmark's
         * marker: it measures the VMM, not the guest's page faults). */
        leaq ready_msg(%rip), %rsi
        movw $0x3f8, %dx
8:      lodsb
        testb %al, %al
        jz 9f
        outb %al, %dx
        jmp 8b
9:      leaq __bss_start(%rip), %rdi
        leaq __bss_end(%rip), %rcx
        subq %rdi, %rcx
        xorl %eax, %eax
        rep stosb
        leaq stack_top(%rip), %rsp
        movq %r12, %rdi
        movl $BOOT_LINUX, %esi
        call guest_main
1:      hlt
        jmp 1b

        .text
        .code32
        .globl pvh_entry
pvh_entry:
        cli
        cld
        /* The stack pointer the VMM handed over, before we set our own:
         * boot stubs that push first need a usable one (main.c prints it). */
        movl %esp, pvh_entry_esp
        movl %ebx, %ebp
        movl $ready_msg, %esi
        movw $0x3f8, %dx
10:     lodsb
        testb %al, %al
        jz 11f
        outb %al, %dx
        jmp 10b
        /* No .bss clearing here: an ELF loader zeroes it (p_memsz), and
         * touching ~0.5 MiB costs a page fault per page on shadow paging. */
11:     /* PML4[0] -> PDPT; PDPT[0..3] -> PD[0..3]; PD entries 2 MiB pages. */
        movl $pdpt, %eax
        orl $3, %eax
        movl %eax, pml4
        xorl %ecx, %ecx
2:      movl %ecx, %eax
        shll $12, %eax
        addl $pd, %eax
        orl $3, %eax
        movl %eax, pdpt(,%ecx,8)
        incl %ecx
        cmpl $4, %ecx
        jne 2b
        xorl %ecx, %ecx
3:      movl %ecx, %eax
        shll $21, %eax
        orl $0x83, %eax
        movl %eax, pd(,%ecx,8)
        movl %ecx, %eax
        shrl $11, %eax
        movl %eax, pd+4(,%ecx,8)
        incl %ecx
        cmpl $2048, %ecx
        jne 3b
        movl $pml4, %eax
        movl %eax, %cr3
        movl %cr4, %eax
        orl $0x20, %eax /* PAE */
        movl %eax, %cr4
        movl $0xc0000080, %ecx /* EFER */
        rdmsr
        orl $0x100, %eax /* LME */
        wrmsr
        movl %cr0, %eax
        orl $0x80000001, %eax /* PG | PE */
        movl %eax, %cr0
        lgdt gdt_ptr
        ljmp $0x08, $long_mode

        .code64
long_mode:
        movl $0x10, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        movl %eax, %fs
        movl %eax, %gs
        leaq stack_top(%rip), %rsp
        movl %ebp, %edi
        movl $BOOT_PVH, %esi
        call guest_main
4:      hlt
        jmp 4b

        /* The application processors' start-up code, copied to 0x8000 by
         * the BSP and entered by a SIPI (vector 8: CS=0x800, IP=0) in real
         * mode.  It prints on COM1 from real mode, raises a flag the BSP
         * waits for, and halts. */
        .section .rodata
ready_msg:
        .asciz "BERTH-GUEST ready\n"

        .code16
        .globl ap_tramp_start, ap_tramp_end, ap_flag
ap_tramp_start:
        cli
        movw %cs, %ax
        movw %ax, %ds
        movw $(ap_msg - ap_tramp_start), %si
5:      lodsb
        testb %al, %al
        jz 6f
        movw $0x3f8, %dx
        outb %al, %dx
        jmp 5b
6:      movb $1, (ap_flag - ap_tramp_start)
7:      cli
        hlt
        jmp 7b
ap_msg: .asciz "BERTH-GUEST ap: started in real mode by INIT/SIPI\n"
ap_flag: .byte 0
ap_tramp_end:
        .code64

        .align 16
gdt:
        .quad 0
        .quad 0x00af9b000000ffff /* 0x08: 64-bit code */
        .quad 0x00cf93000000ffff /* 0x10: data */
gdt_end:
gdt_ptr:
        .word gdt_end - gdt - 1
        .quad gdt

        .section .bss
        .align 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4 * 4096
        .align 16
stack:  .skip 16384
stack_top:

        /* Xen's PHYS32_ENTRY note: where a PVH loader enters. */
        .section .note.Xen, "a"
        .align 4
        .long 4        /* name size */
        .long 4        /* desc size */
        .long 18       /* XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .long pvh_entry

        .section .note.GNU-stack, "", @progbits

        .data
        .globl pvh_entry_esp
        .balign 4
pvh_entry_esp:
        .long 0
