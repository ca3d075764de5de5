// SPDX-License-Identifier: GPL-2.0

//! The library's assembly: the hook entry that the zpoline page jumps to,
//! the process-creation paths (clone, clone3, fork, vfork) that re-arm
//! Syscall User Dispatch in every child, the per-thread TLS block, and
//! the raw syscall helpers.
//!
//! Every `syscall` (and `int $0x80`) the library itself executes lives
//! between `shl_text_start` and `shl_text_end`, the range Syscall User
//! Dispatch lets through. Nothing here is ever rewritten.
//!
//! # The ABI kept
//!
//! `shl_hook_entry` is entered from the page's stub with rax = number,
//! arguments in rdi rsi rdx r10 r8 r9 and the return address (site + 2)
//! at (%rsp) and in rcx. It returns exactly as the `syscall` instruction
//! would: rax = the kernel's result, rcx = the return address, r11 = the
//! caller's rflags, every other general register, rflags (DF included),
//! the whole extended state (x87, MXCSR, xmm/ymm/zmm, k0-7, whatever XCR0
//! enables) and the stack below the caller's red zone unchanged.
//!
//! # Paths
//!
//! * **fast** (pass-through, no callback, no tracer): the rewritten-site
//!   check, an optional `lock incq` of the counter, and the `syscall`. It
//!   uses three words of the caller's red zone (the call already wrote the
//!   return address there: a rewritten site never keeps data in its red
//!   zone, which the patcher checks) and no other stack. (The asm paths
//!   below and the one-time hook-stack allocation use at most 96 bytes of
//!   the red zone; entered from the SIGSYS handler, they start below it.) It executes no
//!   SSE/AVX/x87 instruction and calls no code, so no extended-state
//!   component can change: nothing to save. The caller's status flags are
//!   kept with `seto`/`lahf` (which change no flag) and restored with
//!   `add $0x7f, %al` (OF) and `sahf` (SF ZF AF PF CF) *before* the
//!   `syscall` (no `popfq`: DF, TF and the rest are never changed on this
//!   path), so the kernel both preserves them and puts them in r11, as a
//!   real `syscall` does.
//!   It returns with `pop %rcx; jmp *%rcx`, not `ret` (same count, same
//!   ABI: rcx = site + 2 as after a real `syscall`, rsp = R). See "Return".
//! * **slow** (a callback or the tracer is registered, the counter prints
//!   at exit_group, or a signal-mask call needs protecting): switch to the
//!   thread's own hook stack, save the argument registers and the full
//!   extended state (`xsavec`, or `xsave`, of every XCR0 component but
//!   AMX's and PKRU, which the syscall itself may change; `fxsave` without
//!   XSAVE), `cld`, call `shl_dispatch` (Rust), restore. The stack switch
//!   is one `mov` of a value computed in another register, so that rsp is
//!   valid at every instruction (a signal may land on any of them).
//! * **special**, in asm: rt_sigreturn (from the site's own rsp), exit
//!   (frees the thread's hook stack), and the process-creation calls.
//!
//! # Return
//!
//! On the AMD EPYC bench host (spectre_v2 "Retpolines; RSB filling",
//! SRSO "Safe RET") the kernel's syscall path leaves the return stack
//! buffer without the user's entries, so a `ret` right after `syscall`
//! mispredicts: the native `syscall; ret` pays that once (the wrapper's
//! ret), the hook's `syscall; ret` twice. The fast path's `jmp *%rcx` is
//! predicted by the indirect-branch predictor instead, which the syscall
//! does not clear: the library's fast-path overhead fell from ~25 to ~10
//! TSC ticks per call there (issue 21). The cost: the `call` into the page
//! leaves one RSB entry unconsumed. Where a syscall keeps the user's RSB
//! (no such mitigation), the wrapper's `ret` then mispredicts once instead.
//! The slow path keeps `ret` (a callback that answers makes no syscall,
//! so the RSB is intact there).
//!
//! Every path starts with the rewritten-site check: a call into the page
//! from anywhere else (a NULL function pointer with rax == 56, say) dies
//! loudly in `shl_die_bad_site` and creates nothing.
//!
//! # Hook stack and nesting
//!
//! A signal handler that interrupts the slow path runs on the hook stack
//! (the kernel puts the frame below the current rsp); if it makes a hooked
//! syscall, rsp is inside the hook stack and the new frame goes below it.
//! A handler on a `sigaltstack` that interrupts the slow path enters from
//! another stack while a frame is live (`INUSE` != 0): its frame starts
//! `NEST_GAP` below the live one.
//!
//! # Children
//!
//! The kernel clears SUD in every new task. Each path re-arms it in the
//! child (`shl_rearm`) before the child returns to program code:
//! * a child on a new stack (threads, posix_spawn): the return address,
//!   the caller's rflags, rdi and rsi are written at the top of the new
//!   stack (clone: below `newsp`; clone3: `stack_size` reduced by 32 in a
//!   per-thread copy of `struct clone_args`), and the child pops them;
//! * fork (no `CLONE_VM`, no new stack): the child runs on its copy;
//! * vfork (`CLONE_VM`, no new stack): the child shares this stack and
//!   this TLS block, and runs (and overwrites the stack below the caller's
//!   rsp) before the parent resumes. So the return address, rflags and rsp
//!   go into TLS slots and the syscall runs with the caller's own rsp;
//!   both parent and child return from the slots. Real vfork semantics
//!   are kept (not turned into fork).

use crate::thread::{off, C3_MAX, GUARD_SIZE, NEST_GAP, STACK_SIZE};

std::arch::global_asm!(
    r#"
    /* The per-thread block (thread.rs, `off`): initial-exec TLS, valid
     * because the library is LD_PRELOADed (static TLS of every thread). */
    .section .tbss,"awT",@nobits
    .balign 64
shl_tls:
    .zero {TLS_SIZE}

    .text
    .globl shl_text_start
shl_text_start:
.Ltext_start:

    /* long shl_raw_syscall6(nr, a1, a2, a3, a4, a5, a6): SysV call to
     * syscall convention. */
    .globl shl_raw_syscall6
shl_raw_syscall6:
    mov %rdi, %rax                  /* number */
    mov %rsi, %rdi                  /* argument 1 */
    mov %rdx, %rsi                  /* argument 2 */
    mov %rcx, %rdx                  /* argument 3 */
    mov %r8, %r10                   /* argument 4 */
    mov %r9, %r8                    /* argument 5 */
    mov 8(%rsp), %r9                /* argument 6, from the caller's stack */
    syscall                         /* from library text: SUD lets it through */
    ret                             /* rax = result */

    /* Restorer of the library's SIGSYS handler. */
    .globl shl_restorer
shl_restorer:
    mov $15, %eax                   /* rt_sigreturn */
    syscall                         /* does not return */
    ud2                             /* unreachable */

    /* u64 *shl_tls_ptr(void): the address of this thread's block. */
    .globl shl_tls_ptr
shl_tls_ptr:
    mov %fs:0, %rax                 /* the thread pointer (the TCB points to itself) */
    add shl_tls@gottpoff(%rip), %rax /* + the block's offset from it */
    ret                             /* return */

    /* void shl_int80(u64 r[7]): r = rax rbx rcx rdx rsi rdi rbp; executes
     * int $0x80 (the i386 syscall ABI) with them, r[0] = eax result. */
    .globl shl_int80
shl_int80:
    push %rbx                       /* callee-saved registers used by the i386 ABI */
    push %rbp                       /* save rbp */
    push %rdi                       /* keep the array pointer */
    mov 8(%rdi), %rbx               /* argument 1 */
    mov 16(%rdi), %rcx              /* argument 2 */
    mov 24(%rdi), %rdx              /* argument 3 */
    mov 32(%rdi), %rsi              /* argument 4 */
    mov 48(%rdi), %rbp              /* argument 6 */
    mov 0(%rdi), %rax               /* number */
    mov 40(%rdi), %rdi              /* argument 5 (last: it was the pointer) */
    int $0x80                       /* the i386 syscall, from library text */
    pop %rdi                        /* the array again */
    mov %rax, 0(%rdi)               /* the result */
    pop %rbp                        /* restore rbp */
    pop %rbx                        /* restore rbx */
    ret                             /* return */

    /*
     * The SIGSYS handler's entry (sa_handler): rdi = signal, rsi = siginfo,
     * rdx = ucontext; the kernel's frame is on the interrupted stack or the
     * program's sigaltstack, either of which may be small. Runs the Rust
     * handler on this thread's hook stack. Every signal is blocked here
     * (sa_mask is full), so the switch cannot race with a nested entry.
     */
    .globl shl_sigsys_entry
shl_sigsys_entry:
    mov $186, %eax                  /* gettid (keeps rdi rsi rdx) */
    syscall                         /* the syscall, from library text */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    mov %rsp, %rcx                  /* rcx = the kernel's frame (its return address: the restorer) */
    cmpq $0, %fs:{TOP}(%r11)        /* no hook stack yet? */
    je 4f                           /* allocate it */
    cmp %fs:{OWNER}(%r11), %rax     /* the block is another task's (a vfork child, a CLONE_VM child */
    jne 5f                          /* without CLONE_SETTLS, running beside its parent): not its stack */
    cmp %fs:{LOW}(%r11), %rsp       /* on the hook stack already (the SIGSYS interrupted a handler there)? */
    jb 1f                           /* below: no */
    cmp %fs:{TOP}(%r11), %rsp       /* at or above its top? */
    jb 3f                           /* inside: stay, below the frame */
1:  mov %fs:{INUSE}(%r11), %rax     /* a slow frame is live (we interrupted the hook from another stack) */
    test %rax, %rax                 /* zero? */
    jz 2f                           /* none: the top */
    sub ${NEST_GAP}, %rax           /* below what the interrupted dispatch may use */
    cmp %fs:{LOW}(%r11), %rax       /* too deep (an abandoned frame)? then the top */
    jb 2f                           /* below: to label 2 ahead */
    mov %rax, %rsp                  /* there */
    jmp 3f                          /* to label 3 ahead */
2:  mov %fs:{TOP}(%r11), %rax       /* the top of the hook stack */
    test %rax, %rax                 /* zero? */
    jz 4f                           /* none yet: allocate it */
    mov %rax, %rsp                  /* switch */
3:  and $-16, %rsp                  /* ABI alignment */
    push %rcx                       /* the kernel's frame, to return to */
    push %fs:{INUSE}(%r11)          /* INUSE to restore */
    mov %rsp, %fs:{INUSE}(%r11)     /* our frame is live: a nested entry from another stack goes below */
    cld                             /* (the kernel clears DF for handlers; keep the ABI explicit) */
    call shl_on_sigsys@PLT          /* the Rust handler, on the hook stack */
    mov shl_tls@gottpoff(%rip), %r11 /* (clobbered by the call) */
    popq %fs:{INUSE}(%r11)          /* INUSE back */
    pop %rsp                        /* the kernel's frame */
    ret                             /* to the restorer: rt_sigreturn */
4:  call shl_alloc_stack            /* on the current stack; preserves rdi rsi rdx */
    jmp shl_sigsys_entry            /* again, with a stack */
5:  sub $8, %rsp                    /* on the current stack: align (entered as after a call) */
    cld                             /* ABI: DF clear */
    call shl_on_sigsys@PLT          /* the Rust handler */
    add $8, %rsp                    /* back to the kernel's frame */
    ret                             /* to the restorer */

    /* Re-arm SUD in a new task (the kernel clears it in every child).
     * Preserves every register but rax, rcx, r11 and rflags. */
shl_rearm:
    push %rdi                       /* save the registers prctl's arguments use */
    push %rsi                       /* save rsi */
    push %rdx                       /* save rdx */
    push %r10                       /* save r10 */
    push %r8                        /* save r8 */
    mov $157, %eax                  /* prctl */
    mov $59, %edi                   /* PR_SET_SYSCALL_USER_DISPATCH */
    mov $1, %esi                    /* PR_SYS_DISPATCH_ON */
    lea .Ltext_start(%rip), %rdx    /* allowed range: this text ... */
    lea .Ltext_end(%rip), %r10      /* end of the allowed range */
    sub %rdx, %r10                  /* ... of this length */
    mov shl_selector@GOTPCREL(%rip), %r8 /* the selector byte (always "block") */
    syscall                         /* a failure leaves the child unhooked, not broken */
    mov shl_sigsys_action@GOTPCREL(%rip), %rsi /* the library's SIGSYS action (signals.rs) */
    cmpq $0, (%rsi)                 /* not installed (never, once SUD is on): leave it */
    je 1f                           /* zero: to label 1 ahead */
    mov $13, %eax                   /* rt_sigaction: again, for a clone3 CLONE_CLEAR_SIGHAND child */
    mov $31, %edi                   /* SIGSYS (SUD is on: without it the first trap kills) */
    xor %edx, %edx                  /* no old action */
    mov $8, %r10d                   /* sigsetsize */
    syscall                         /* the syscall, from library text */
    mov shl_sigtrap_action@GOTPCREL(%rip), %rsi /* the library's SIGTRAP action (xmc.rs) */
    cmpq $0, (%rsi)                 /* the int3 protocol is off: leave it */
    je 1f                           /* zero: to label 1 ahead */
    mov $13, %eax                   /* rt_sigaction: again, as for SIGSYS */
    mov $5, %edi                    /* SIGTRAP (a trap at a site being patched must not kill) */
    xor %edx, %edx                  /* no old action */
    mov $8, %r10d                   /* sigsetsize */
    syscall                         /* the syscall, from library text */
1:  pop %r8                         /* registers back */
    pop %r10                        /* restore r10 */
    pop %rdx                        /* restore rdx */
    pop %rsi                        /* restore rsi */
    pop %rdi                        /* restore rdi */
    ret                             /* return */

    /* Allocate this thread's hook stack (guard page + stack). Called on
     * the caller's stack; preserves all but rcx, r11 and rflags. */
shl_alloc_stack:
    push %rax                       /* save what the syscalls use */
    push %rdi                       /* save rdi */
    push %rsi                       /* save rsi */
    push %rdx                       /* save rdx */
    push %r10                       /* save r10 */
    push %r8                        /* save r8 */
    push %r9                        /* save r9 */
    mov $9, %eax                    /* mmap */
    xor %edi, %edi                  /* anywhere */
    mov ${MAP_LEN}, %esi            /* guard page + stack */
    mov $3, %edx                    /* PROT_READ | PROT_WRITE */
    mov $0x24022, %r10d             /* MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK */
    mov $-1, %r8                    /* no file */
    xor %r9d, %r9d                  /* offset 0 */
    syscall                         /* the syscall, from library text */
    cmp $-4095, %rax                /* -errno? */
    jae 1f                          /* at or above: to label 1 ahead */
    mov %rax, %rdi                  /* the lowest page becomes the guard */
    mov ${GUARD_PAGE}, %esi         /* one page */
    xor %edx, %edx                  /* PROT_NONE */
    mov $10, %eax                   /* mprotect (a failure only loses the guard) */
    syscall                         /* the syscall, from library text */
    mov $186, %eax                  /* gettid: the owner, who frees it at exit */
    syscall                         /* the syscall, from library text */
    mov shl_tls@gottpoff(%rip), %r11 /* the block */
    mov %rax, %fs:{OWNER}(%r11)     /* owner */
    lea {GUARD_PAGE}(%rdi), %rax    /* lowest usable address */
    mov %rax, %fs:{LOW}(%r11)       /* LOW */
    lea {MAP_LEN}(%rdi), %rax       /* top */
    mov %rax, %fs:{TOP}(%r11)       /* published last */
    pop %r9                         /* registers back */
    pop %r8                         /* restore r8 */
    pop %r10                        /* restore r10 */
    pop %rdx                        /* restore rdx */
    pop %rsi                        /* restore rsi */
    pop %rdi                        /* restore rdi */
    pop %rax                        /* restore rax */
    ret                             /* return */
1:  and $-16, %rsp                  /* ABI alignment for the call */
    cld                             /* ABI: DF clear */
    call shl_die_no_stack@PLT       /* prints and exits */
    ud2                             /* unreachable */

    /*
     * The hook. Entered from the zpoline stub: rax = number, arguments in
     * rdi rsi rdx r10 r8 r9, return address at (%rsp) and in rcx, r11
     * clobbered. R below = the site's rsp (return address at R-8).
     */
    .globl shl_hook_entry_asm
shl_hook_entry_asm:
    mov %rax, %r11                  /* keep the number */
    seto %al                        /* al = OF (seto and lahf read the flags and change none) */
    lahf                            /* ah = SF ZF AF PF CF */
    push %rax                       /* [R-16] the caller's status flags (DF and the rest are never changed on the fast path) */
    mov %r11, %rax                  /* the number back */
    push %rdx                       /* [R-24] scratch for the site check (the caller's dead red zone) */
    push %rsi                       /* [R-32] */
    mov 24(%rsp), %rcx              /* the return address */
    sub $2, %rcx                    /* rcx = the site: where the ff d0 is */
    movabs $0x9e3779b97f4a7c15, %rdx /* shl_site_set's multiplicative hash */
    imul %rcx, %rdx                 /* site * K, mod 2^64 */
    shr $48, %rdx                   /* the first slot (0..65535) */
    mov shl_site_set@GOTPCREL(%rip), %rsi /* the table */
2:  mov (%rsi,%rdx,8), %r11         /* the slot's entry */
    cmp %rcx, %r11                  /* this site? */
    je .Lchecked                    /* equal: to .Lchecked */
    test %r11, %r11                 /* an empty slot: not a rewritten site */
    jz .Lbad_site                   /* zero: to .Lbad_site */
    inc %edx                        /* linear probing ... */
    and $0xffff, %edx               /* ... around the table */
    jmp 2b                          /* to label 2 back */
.Lchecked:
    mov %eax, %ecx                  /* the kernel's number: (int)rax, so bits 32-63 do not count */
    cmp $512, %ecx                  /* beyond the class table (negative included): plain pass-through */
    jae .Lfast                      /* at or above: to .Lfast */
    mov shl_nr_class@GOTPCREL(%rip), %rsi /* one class byte per number */
    movzbl (%rsi,%rcx), %edx        /* edx = this number's class */
    test $1, %dl                    /* counted? */
    jz 4f                           /* zero: to label 4 ahead */
    mov shl_counts@GOTPCREL(%rip), %rsi /* the counters */
    lock incq (%rsi,%rcx,8)         /* shl_counts[nr] += 1, atomically */
4:  test $6, %dl                    /* slow (2) or special (4)? */
    jnz .Lnot_fast                  /* non-zero: to .Lnot_fast */
.Lfast:
    pop %rsi                        /* scratch back */
    pop %rdx                        /* restore rdx */
    mov %rax, %r11                  /* keep the number */
    pop %rax                        /* al = OF, ah = SF ZF AF PF CF */
    add $0x7f, %al                  /* OF = al: 0x7f + 1 overflows, 0x7f + 0 does not */
    sahf                            /* SF ZF AF PF CF: rflags are the caller's again, */
    mov %r11, %rax                  /* kept by the syscall, and in r11 after it */
    syscall                         /* the syscall itself; rsp = R-8 */
    pop %rcx                        /* rcx = return address (site + 2), where syscall puts it */
    jmp *%rcx                       /* to the site + 2 (not `ret`: see "Return" above) */

.Lnot_fast:
    mov %edx, %ecx                  /* the class */
    pop %rsi                        /* scratch back */
    pop %rdx                        /* restore rdx */
    mov %rax, %r11                  /* keep the number */
    mov (%rsp), %rax                /* al = OF, ah = SF ZF AF PF CF */
    add $0x7f, %al                  /* OF = al */
    sahf                            /* the other status flags: rflags are the caller's */
    lea 8(%rsp), %rsp               /* drop the saved byte pair (lea keeps the flags) */
    pushfq                          /* [R-16] the caller's full rflags, for the paths below */
    mov %r11, %rax                  /* the number */
    test $4, %cl                    /* class bit 4: an asm path */
    jnz .Lspecial                   /* else the slow path */

    /*
     * The slow path. rsp = A = R-16: [A] rflags, [A+8] return address;
     * every register the caller's but rcx, r11.
     *
     * The new rsp is computed in rcx and swapped in with one `xchg`
     * (which leaves the caller's, A-8, in rcx): at every instruction rsp
     * is the caller's (with our words above it) or the frame's top on the
     * hook stack, never 0, a live frame or below LOW, so a signal (a
     * single-step SIGTRAP, a handler without SA_ONSTACK) may land on any
     * of them.
     */
.Lslow:
    mov shl_tls@gottpoff(%rip), %r11 /* the TLS block's offset from %fs */
    push %fs:{INUSE}(%r11)          /* [A-8] INUSE to restore at the end (still on the current stack) */
    cmp %fs:{LOW}(%r11), %rsp       /* below the hook stack? */
    jb 1f                           /* below: to label 1 ahead */
    cmp %fs:{TOP}(%r11), %rsp       /* at or above its top? */
    jae 1f                          /* at or above: to label 1 ahead */
    lea -128(%rsp), %rcx            /* on it already (a handler that interrupted the hook): below its red zone */
    jmp 3f                          /* to label 3 ahead */
1:  mov %fs:{INUSE}(%r11), %rcx     /* a frame is live: we are a handler on another stack */
    test %rcx, %rcx                 /* zero? */
    jz 2f                           /* zero: to label 2 ahead */
    sub ${NEST_GAP}, %rcx           /* leave the interrupted dispatch its room */
    cmp %fs:{LOW}(%r11), %rcx       /* would that be too deep? (an abandoned frame, e.g. a longjmp out of a handler) */
    jb 2f                           /* below: to label 2 ahead */
    sub $16384, %rcx                /* at least 16 KiB must remain */
    cmp %fs:{LOW}(%r11), %rcx       /* (from LOW) */
    jb 2f                           /* below: to label 2 ahead */
    add $16384, %rcx                /* back: rcx = INUSE - NEST_GAP */
    jmp 3f                          /* to label 3 ahead */
2:  mov %fs:{TOP}(%r11), %rcx       /* the top of this thread's hook stack */
    test %rcx, %rcx                 /* zero? */
    jnz 3f                          /* non-zero: to label 3 ahead */
    call shl_alloc_stack            /* none yet: allocate it, on the caller's stack (rsp = A-8) */
    add $8, %rsp                    /* rsp = A */
    jmp .Lslow                      /* and again, with a stack */
3:  and $-16, %rcx                  /* T: the top of our frame */
    mov %rcx, %fs:{INUSE}(%r11)     /* reserve it before writing: a nested entry from another stack goes below */
    xchg %rcx, %rsp                 /* the switch, in one instruction: rsp = T, rcx = A-8 */
    push %rcx                       /* [T-8] A-8: the caller's stack */
    push 16(%rcx)                   /* Frame.ret: the return address */
    push %r9                        /* Frame.args[5] */
    push %r8                        /* Frame.args[4] */
    push %r10                       /* Frame.args[3] */
    push %rdx                       /* Frame.args[2] */
    push %rsi                       /* Frame.args[1] */
    push %rdi                       /* Frame.args[0] */
    push %rax                       /* Frame.nr */
    mov %rsp, %rdi                  /* argument 1 of shl_dispatch: &Frame */
    push %rbp                       /* callee-saved, our frame pointer */
    mov %rsp, %rbp                  /* frame pointer = rsp */
    mov shl_xstate@GOTPCREL(%rip), %r11 /* {{size, mode, xcr0}} */
    sub (%r11), %rsp                /* room for the extended state */
    and $-64, %rsp                  /* xsave wants 64-byte alignment */
    xor %eax, %eax                  /* zero, for the header */
    mov %rax, 512(%rsp)             /* clear the 64-byte XSAVE header: */
    mov %rax, 520(%rsp)             /* xrstor faults on stale bytes in it */
    mov %rax, 528(%rsp)             /* (header, cont.) */
    mov %rax, 536(%rsp)             /* (header, cont.) */
    mov %rax, 544(%rsp)             /* (header, cont.) */
    mov %rax, 552(%rsp)             /* (header, cont.) */
    mov %rax, 560(%rsp)             /* (header, cont.) */
    mov %rax, 568(%rsp)             /* (header, cont.) */
    mov 16(%r11), %eax              /* eax = XCR0[31:0] */
    mov 20(%r11), %edx              /* edx = XCR0[63:32]: every enabled component */
    cmpq $2, 8(%r11)                /* XSAVEC? */
    jne 4f                          /* not equal: to label 4 ahead */
    xsavec64 (%rsp)                 /* compacted save (skips components in init state) */
    jmp 6f                          /* to label 6 ahead */
4:  cmpq $1, 8(%r11)                /* XSAVE? */
    jne 5f                          /* not equal: to label 5 ahead */
    xsave64 (%rsp)                  /* standard-format save */
    jmp 6f                          /* to label 6 ahead */
5:  fxsave64 (%rsp)                 /* no XSAVE: x87, MXCSR, xmm0-15 */
6:  cld                             /* the ABI wants DF clear in Rust and C */
    call shl_dispatch@PLT           /* rax = the result */
    mov %rax, %rsi                  /* keep it (rsi comes back from the frame) */
    mov shl_xstate@GOTPCREL(%rip), %r11 /* r11 = &shl_xstate again */
    mov 16(%r11), %eax              /* the same mask */
    mov 20(%r11), %edx              /* edx = XCR0[63:32] */
    cmpq $0, 8(%r11)                /* fxsave was used? */
    je 7f                           /* equal: to label 7 ahead */
    xrstor64 (%rsp)                 /* restore (the header says which format) */
    jmp 8f                          /* to label 8 ahead */
7:  fxrstor64 (%rsp)                /* the fxsave format */
8:  mov %rsi, %rax                  /* the result */
    mov %rbp, %rsp                  /* drop the save area */
    pop %rbp                        /* restore rbp */
    pop %rcx                        /* Frame.nr: dropped (rax is the result) */
    pop %rdi                        /* the caller's registers, as they were */
    pop %rsi                        /* (even if a callback changed the arguments) */
    pop %rdx                        /* restore rdx */
    pop %r10                        /* restore r10 */
    pop %r8                         /* restore r8 */
    pop %r9                         /* restore r9 */
    pop %rcx                        /* Frame.ret: dropped */
    pop %rsp                        /* rsp = A-8: off the hook stack */
    pop %rcx                        /* the previous INUSE */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    mov %rcx, %fs:{INUSE}(%r11)     /* only now: our frame is left */
    mov 8(%rsp), %rcx               /* rcx = return address, as after syscall */
    mov (%rsp), %r11                /* r11 = the caller's rflags, as after syscall */
    popfq                           /* rflags back, DF included */
    ret                             /* to the site + 2 */

    /*
     * The same entry for the library's own syscall(3) (`syscall` below):
     * the caller is this library, not a rewritten site, so no site check.
     */
    .globl shl_hook_entry_trusted
shl_hook_entry_trusted:
    mov %rax, %r11                  /* keep the number */
    seto %al                        /* al = OF */
    lahf                            /* ah = SF ZF AF PF CF */
    push %rax                       /* [R-16] as in shl_hook_entry_asm */
    mov %r11, %rax                  /* the number back */
    push %rdx                       /* [R-24], [R-32] as there */
    push %rsi                       /* save rsi */
    jmp .Lchecked                   /* classes, counter, paths: all the same */

    /* Sites that are not rewritten syscalls: die loudly. rsp = R-32. */
.Lbad_site:
    pop %rsi                        /* the caller's registers, for the core dump */
    pop %rdx                        /* restore rdx */
    lea 8(%rsp), %rsp               /* drop the saved flags */
    mov (%rsp), %rdi                /* argument 1: where the call came from */
    mov %rax, %rsi                  /* argument 2: rax */
    and $-16, %rsp                  /* ABI alignment */
    cld                             /* ABI: DF clear */
    call shl_die_bad_site@PLT       /* does not return */
    ud2                             /* never reached (traps if it is) */

    /* Class bit 4. rsp = A = R-16: [A] rflags, [A+8] return address. */
.Lspecial:
    cmp $15, %eax                   /* rt_sigreturn (the low 32 bits: the kernel's number) */
    je .Lsigreturn                  /* equal: to .Lsigreturn */
    cmp $60, %eax                   /* exit (this thread) */
    je .Lexit                       /* equal: to .Lexit */
    lea 16(%rsp), %r11              /* r11 = R, the site's rsp */
    push %r11                       /* [P+8] R */
    push 8(%rsp)                    /* [P] rflags (8(%rsp) is read before the push: [A]) */
    jmp .Lspawn                     /* frame P: rflags, R, rflags, return address */

.Lsigreturn:
    lea 16(%rsp), %rsp              /* rsp = R: rt_sigreturn reads its frame at the site's rsp */
    syscall                         /* does not return */
    ud2                             /* never reached (traps if it is) */

    /* From the SIGSYS handler, for an exit at a site that is not
     * rewritten: rip here, rdi the status. */
    .globl shl_sud_exit
shl_sud_exit:
.Lexit:                             /* rdi = status; exit does not return, so no register matters */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    cmpq $0, %fs:{INUSE}(%r11)      /* a frame is live on the hook stack (exit from a callback or a handler on it) */
    jne 2f                          /* not equal: to label 2 ahead */
    cmpq $0, %fs:{TOP}(%r11)        /* no hook stack */
    je 2f                           /* equal: to label 2 ahead */
    mov %rdi, %rdx                  /* keep the status */
    mov $186, %eax                  /* gettid */
    syscall                         /* the syscall, from library text */
    mov shl_tls@gottpoff(%rip), %r11 /* (syscall clobbered r11) */
    cmp %fs:{OWNER}(%r11), %rax     /* only the thread that allocated it (not a vfork or shared-TLS child) */
    jne 1f                          /* not equal: to label 1 ahead */
    mov %fs:{LOW}(%r11), %rdi       /* the lowest usable address */
    sub ${GUARD_PAGE}, %rdi         /* the mapping's start */
    mov %fs:{TOP}(%r11), %rsi       /* the top */
    sub %rdi, %rsi                  /* its length */
    movq $0, %fs:{TOP}(%r11)        /* gone */
    movq $0, %fs:{LOW}(%r11)        /* (both) */
    mov $11, %eax                   /* munmap (we are on the caller's stack) */
    syscall                         /* the syscall, from library text */
1:  mov %rdx, %rdi                  /* the status */
2:  mov $60, %eax                   /* exit */
    syscall                         /* the syscall, from library text */
    ud2                             /* never reached (traps if it is) */

    /*
     * From the SIGSYS handler, for a clone/clone3/fork/vfork at a site
     * that is not rewritten: rip here, rcx = site + 2, everything else as
     * at the site (rsp, rflags, arguments). The site's red zone may be
     * live, so we start below it, where the SIGSYS frame was (now dead).
     */
    .globl shl_sud_spawn
shl_sud_spawn:
    mov %rsp, %r11                  /* r11 = R, the site's rsp */
    lea -128(%rsp), %rsp            /* below the red zone */
    push %rcx                       /* [P+24] return address */
    pushfq                          /* [P+16] rflags */
    push %r11                       /* [P+8] R */
    pushfq                          /* [P] rflags */
    jmp .Lspawn                     /* to .Lspawn */

    /* From the SIGSYS handler, for an rt_sigreturn at a site that is not
     * rewritten: rip here, rsp the site's (the frame to return to). */
    .globl shl_sud_sigreturn
shl_sud_sigreturn:
    mov $15, %eax                   /* rt_sigreturn */
    syscall                         /* does not return */
    ud2                             /* never reached (traps if it is) */

    /* From the SIGSYS handler, for any other syscall at a site that is
     * not rewritten: rip here, rcx = site + 2, everything else as at the
     * site. The call runs here, after the handler returned, in the
     * program's own context (so rt_sigreturn cannot undo what it does to
     * the signal mask, sigaltstack or PKRU), through the hook entry as if
     * the site were rewritten. The site's red zone may be live: below it. */
    .globl shl_sud_call
shl_sud_call:
    lea -128(%rsp), %rsp            /* below the site's red zone */
    push %rcx                       /* the return address: site + 2 */
    call shl_hook_entry_trusted     /* rax = result, r11 = rflags, all else kept */
    pop %rcx                        /* rcx = site + 2, as after syscall (pop keeps the flags) */
    lea 128(%rsp), %rsp             /* rsp = the site's (lea keeps the flags) */
    jmp *%rcx                       /* to the site + 2 */

    /*
     * Process creation. rsp = P: [P] rflags, [P+8] R (the site's rsp),
     * [P+16] rflags, [P+24] return address; rax = number; the caller's
     * registers but rcx, r11.
     */
.Lspawn:
    cmp $57, %eax                   /* fork (the low 32 bits: the kernel's number) */
    je .Lfork                       /* equal: to .Lfork */
    cmp $58, %eax                   /* vfork */
    je .Lvfork                      /* equal: to .Lvfork */
    cmp $435, %eax                  /* clone3 */
    je .Lclone3                     /* equal: to .Lclone3 */
    test %rsi, %rsi                 /* clone: a new stack? */
    jnz .Lclone_stack               /* non-zero: to .Lclone_stack */
    test $0x100, %edi               /* CLONE_VM without a new stack: the child shares ours */
    jnz .Lvfork                     /* non-zero: to .Lvfork */
    jmp .Lfork                      /* to .Lfork */

.Lclone_stack:                      /* rsi = newsp */
    mov 24(%rsp), %rcx              /* the return address */
    mov %rcx, -8(%rsi)              /* child [newsp-8]: the return address */
    mov 16(%rsp), %rcx              /* the caller's rflags */
    mov %rcx, -16(%rsi)             /* child [newsp-16]: the caller's rflags */
    mov %rdi, -24(%rsi)             /* child [newsp-24]: the caller's rdi */
    mov %rsi, -32(%rsi)             /* child [newsp-32]: the caller's rsi */
    sub $32, %rsi                   /* the child starts below the four words */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    push %fs:{INUSE}(%r11)          /* INUSE and GUARD: a child without CLONE_SETTLS */
    push %fs:{GUARD_SLOT}(%r11)     /* shares our block and may exec from a slow frame */
    syscall                         /* clone */
    test %rax, %rax                 /* 0: we are the child */
    jz .Lchild_stack                /* the child, on its new stack */
    add $32, %rsi                   /* the parent: rsi as the caller set it */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    popq %fs:{GUARD_SLOT}(%r11)     /* ours again */
    popq %fs:{INUSE}(%r11)          /* INUSE back */
    jmp .Lspawn_ret                 /* to .Lspawn_ret */

.Lclone3:                           /* rdi = struct clone_args *, rsi = its size */
    cmp $64, %rsi                   /* below CLONE_ARGS_SIZE_VER0: the kernel refuses it */
    jb .Lplain                      /* below: to .Lplain */
    cmpq $0, 40(%rdi)               /* args->stack: none, the child shares ours */
    jne 1f                          /* not equal: to label 1 ahead */
    testq $0x100, (%rdi)            /* CLONE_VM: vfork-like */
    jnz .Lvfork                     /* non-zero: to .Lvfork */
    jmp .Lfork                      /* to .Lfork */
1:  mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    cmpq $0, %fs:{C3_BUSY}(%r11)    /* we interrupted this thread's own clone3 between copy and syscall */
    jne .Lenosys                    /* -ENOSYS: the C library falls back to clone */
    cmp $4096, %rsi                 /* larger than a page: the kernel's -E2BIG */
    ja .Le2big                      /* above: to .Le2big */
    cmp ${C3_MAX}, %rsi             /* larger than our copy? */
    jbe 2f                          /* no */
    mov ${C3_MAX}, %ecx             /* yes: the tail must be zero, as the kernel demands of fields it does not know */
5:  cmpb $0, (%rdi,%rcx)            /* a tail byte */
    jne .Le2big                     /* non-zero: the kernel's -E2BIG */
    inc %rcx                        /* next */
    cmp %rsi, %rcx                  /* up to the size */
    jb 5b                           /* below: to label 5 back */
2:  movq $1, %fs:{C3_BUSY}(%r11)    /* the copy is ours until the syscall */
    push %rdi                       /* the caller's rdi */
    push %rsi                       /* the caller's rsi */
    mov %rsi, %rcx                  /* count: the struct ... */
    cmp ${C3_MAX}, %rcx             /* more than our copy holds? */
    jbe 3f                          /* at or below: to label 3 ahead */
    mov ${C3_MAX}, %ecx             /* ... without its zero tail */
3:  mov %rdi, %rsi                  /* from the caller's struct */
    mov %fs:0, %rdi                 /* the thread pointer */
    lea {C3_BUF}(%rdi,%r11), %rdi   /* to this thread's copy */
    cld                             /* forward (rflags come back at return) */
    rep movsb                       /* copy */
    pop %rsi                        /* the caller's rsi back */
    pop %rdi                        /* the caller's rdi back */
    mov %fs:0, %rcx                 /* the thread pointer */
    lea {C3_BUF}(%rcx,%r11), %rcx   /* rcx = the copy */
    cmpq $32, 48(%rcx)              /* stack_size (of the copy) too small for our four words */
    jb 4f                           /* below: to label 4 ahead */
    mov 40(%rcx), %r11              /* stack */
    add 48(%rcx), %r11              /* + stack_size: the child's stack top */
    mov 24(%rsp), %rax              /* the return address */
    mov %rax, -8(%r11)              /* child [top-8]: the return address */
    mov 16(%rsp), %rax              /* the caller's rflags */
    mov %rax, -16(%r11)             /* child [top-16]: the caller's rflags */
    mov %rdi, -24(%r11)             /* child [top-24]: the caller's rdi */
    mov %rsi, -32(%r11)             /* child [top-32]: the caller's rsi */
    subq $32, 48(%rcx)              /* the child starts below them (flags, size kept) */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    push %fs:{INUSE}(%r11)          /* INUSE and GUARD, as for clone */
    push %fs:{GUARD_SLOT}(%r11)     /* save GUARD */
    push %rdi                       /* keep the caller's rdi, rsi */
    push %rsi                       /* save rsi */
    cmp ${C3_MAX}, %rsi             /* the size the kernel reads: ours */
    jbe 6f                          /* at or below: to label 6 ahead */
    mov ${C3_MAX}, %esi             /* the size of our copy */
6:  mov %rcx, %rdi                  /* the kernel reads our copy */
    mov $435, %eax                  /* clone3 */
    syscall                         /* the syscall, from library text */
    test %rax, %rax                 /* 0: we are the child */
    jz .Lchild_stack                /* the child, on its new stack */
    pop %rsi                        /* the parent: rsi, rdi as the caller set them */
    pop %rdi                        /* restore rdi */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    popq %fs:{GUARD_SLOT}(%r11)     /* ours again */
    popq %fs:{INUSE}(%r11)          /* INUSE back */
    movq $0, %fs:{C3_BUSY}(%r11)    /* the copy is free */
    jmp .Lspawn_ret                 /* to .Lspawn_ret */

4:  mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    movq $0, %fs:{C3_BUSY}(%r11)    /* the copy is free */
.Leinval:
    mov $-22, %rax                  /* -EINVAL: no room for our words on the child's stack */
    jmp .Lspawn_ret                 /* to .Lspawn_ret */
.Lenosys:
    mov $-38, %rax                  /* -ENOSYS */
    jmp .Lspawn_ret                 /* to .Lspawn_ret */
.Le2big:
    mov $-7, %rax                   /* -E2BIG */
    jmp .Lspawn_ret                 /* to .Lspawn_ret */
.Lplain:
    syscall                         /* the kernel rejects it; nothing is created */
    jmp .Lspawn_ret                 /* to .Lspawn_ret */

.Lchild_stack:                      /* the child: rsp = top-32: rsi, rdi, rflags, return address */
    pop %rsi                        /* the caller's rsi */
    pop %rdi                        /* the caller's rdi */
    call shl_rearm                  /* SUD on in this task */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    movq $0, %fs:{C3_BUSY}(%r11)    /* a clone3 copy in our (fresh or copied) block is not ours */
    mov 8(%rsp), %rcx               /* rcx = return address */
    mov (%rsp), %r11                /* r11 = rflags */
    xor %eax, %eax                  /* the child's result */
    popfq                           /* the caller's rflags */
    ret                             /* rsp = the new stack's top, as clone promises */

.Lfork:                             /* the child gets a copy of this stack */
    syscall                         /* the syscall, from library text */
    test %rax, %rax                 /* 0: we are the child */
    jnz .Lspawn_ret                 /* the parent (or an error) */
    call shl_rearm                  /* the child, on its copy below the frame */
    mov $39, %eax                   /* getpid: the counter table in this memory is now ours */
    syscall                         /* the syscall, from library text */
    mov shl_table_pid@GOTPCREL(%rip), %r11 /* &shl_table_pid */
    mov %rax, (%r11)                /* shl_table_pid = our pid */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    mov %rax, %fs:{OWNER}(%r11)     /* our copy of the hook stack is ours (tid = pid in the child) */
    xor %eax, %eax                  /* the child's result */
.Lspawn_ret:                        /* rsp = P */
    mov 24(%rsp), %rcx              /* rcx = return address */
    mov (%rsp), %r11                /* r11 = rflags */
    popfq                           /* the caller's rflags */
    pop %rsp                        /* rsp = R, as at the site */
    jmp *%rcx                       /* to the site + 2 */

.Lvfork:                            /* the child shares this stack and this TLS block: state into TLS */
    mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    mov 24(%rsp), %rcx              /* the return address ... */
    mov %rcx, %fs:{VF_RET}(%r11)    /* the return address */
    mov 16(%rsp), %rcx              /* rflags ... */
    mov %rcx, %fs:{VF_FLAGS}(%r11)  /* rflags */
    mov 8(%rsp), %rcx               /* R ... */
    mov %rcx, %fs:{VF_RSP}(%r11)    /* R */
    mov %fs:{INUSE}(%r11), %rcx     /* INUSE ... */
    mov %rcx, %fs:{VF_INUSE}(%r11)  /* INUSE and GUARD, which the child may leave changed */
    mov %fs:{GUARD_SLOT}(%r11), %rcx /* GUARD ... */
    mov %rcx, %fs:{VF_GUARD}(%r11)  /* ... saved */
    mov %fs:{VF_RSP}(%r11), %rsp    /* rsp = R: nothing of ours on the shared stack */
    syscall                         /* vfork, or clone(CLONE_VM...) */
    lea -128(%rsp), %rsp            /* below the caller's red zone */
    test %rax, %rax                 /* 0: we are the child */
    jnz 1f                          /* the parent, after the child exec'd or exited */
    call shl_rearm                  /* the child */
    xor %eax, %eax                  /* the child's result */
1:  mov shl_tls@gottpoff(%rip), %r11 /* r11 = the TLS block's offset from %fs */
    mov %fs:{VF_INUSE}(%r11), %rcx  /* INUSE before the call */
    mov %rcx, %fs:{INUSE}(%r11)     /* as before the call */
    mov %fs:{VF_GUARD}(%r11), %rcx  /* GUARD before the call */
    mov %rcx, %fs:{GUARD_SLOT}(%r11) /* restored */
    mov %fs:{VF_RET}(%r11), %rcx    /* rcx = return address */
    push %fs:{VF_RSP}(%r11)         /* R */
    push %fs:{VF_FLAGS}(%r11)       /* rflags */
    mov (%rsp), %r11                /* r11 = rflags */
    popfq                           /* the caller's rflags */
    pop %rsp                        /* rsp = R */
    jmp *%rcx                       /* to the site + 2 */

    .globl shl_text_end
shl_text_end:
.Ltext_end:
    "#,
    TLS_SIZE = const off::SIZE,
    TOP = const off::TOP,
    LOW = const off::LOW,
    INUSE = const off::INUSE,
    GUARD_PAGE = const GUARD_SIZE,
    GUARD_SLOT = const off::GUARD,
    OWNER = const off::OWNER,
    VF_RET = const off::VF_RET,
    VF_FLAGS = const off::VF_FLAGS,
    VF_RSP = const off::VF_RSP,
    VF_INUSE = const off::VF_INUSE,
    VF_GUARD = const off::VF_GUARD,
    C3_BUSY = const off::C3_BUSY,
    C3_BUF = const off::C3_BUF,
    C3_MAX = const C3_MAX,
    MAP_LEN = const STACK_SIZE + GUARD_SIZE,
    NEST_GAP = const NEST_GAP,
    options(att_syntax)
);

extern "C" {
    /// Start of the range SUD lets through.
    pub fn shl_text_start();
    /// End of the range SUD lets through.
    pub fn shl_text_end();
    /// Raw syscall from inside the allowed range.
    pub fn shl_raw_syscall6(nr: i64, a1: i64, a2: i64, a3: i64, a4: i64, a5: i64, a6: i64) -> i64;
    /// Restorer for the SIGSYS handler.
    pub fn shl_restorer();
    /// The hook the zpoline stub jumps to.
    pub fn shl_hook_entry_asm();
    /// The SIGSYS handler's entry: switches to the hook stack and calls
    /// `shl_on_sigsys`.
    pub fn shl_sigsys_entry();
    /// Where the SIGSYS handler sends a clone/clone3/fork/vfork it does not
    /// rewrite (rcx = return address).
    pub fn shl_sud_spawn();
    /// Where the SIGSYS handler sends an exit it does not rewrite (the
    /// thread's hook stack is freed there).
    pub fn shl_sud_exit();
    /// Where the SIGSYS handler sends an rt_sigreturn it does not rewrite.
    pub fn shl_sud_sigreturn();
    /// Where the SIGSYS handler sends any other syscall it does not
    /// rewrite (rcx = return address): it runs after the handler returned.
    pub fn shl_sud_call();
    /// This thread's TLS block.
    pub fn shl_tls_ptr() -> *mut u64;
    /// `int $0x80` with `r` = rax rbx rcx rdx rsi rdi rbp; r[0] = result.
    pub fn shl_int80(r: *mut [u64; 7]);
}

/// The hook entry, exported for benchmarks and tests that map their own
/// page (see `syscallhook_bench_mark_site`): a direct `jmp` to
/// `shl_hook_entry_asm`, which the kernel's stub reaches directly. (rustc
/// exports only Rust items from a cdylib, not `global_asm!` symbols.)
#[unsafe(naked)]
#[no_mangle]
pub extern "C" fn shl_hook_entry() {
    core::arch::naked_asm!(
        "jmp shl_hook_entry_asm", // same registers and stack: a tail jump
    )
}

/// `long syscall(long number, ...)` with glibc's semantics (-1 and `errno`
/// on error), exported so that it interposes glibc's wrapper for callers
/// that go through the PLT (Rust std's futex calls, Python's ctypes...):
/// glibc's wrapper has a `syscall` whose number is not a constant, which
/// the patcher leaves on the slow SIGSYS path; this one enters the hook
/// directly, with the same classes, counter and callbacks, and passes any
/// number to the kernel.
///
/// # Safety
///
/// As for the C function: the arguments must be valid for the syscall.
// SAFETY: the body is a complete function of the C ABI: it preserves the
// callee-saved registers (the hook preserves all but rax, rcx, r11) and
// keeps the stack aligned for its one call.
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn syscall() {
    core::arch::naked_asm!(
        // Without the hook (no page, SUD refused), straight to the kernel:
        // the hook's process-creation paths would arm SUD in the child,
        // which has no SIGSYS handler then.
        "mov shl_active@GOTPCREL(%rip), %rax",
        "cmpb $0, (%rax)",
        "jne 2f",
        "push 8(%rsp)",          // argument 6 where shl_raw_syscall6 reads it
        "call shl_raw_syscall6", // (nr, a1..a6): this function's own arguments
        "add $8, %rsp",
        "jmp 3f",
        "2: mov %rdi, %rax",           // the number
        "mov %rsi, %rdi",              // argument 1
        "mov %rdx, %rsi",              // argument 2
        "mov %rcx, %rdx",              // argument 3
        "mov %r8, %r10",               // argument 4
        "mov %r9, %r8",                // argument 5
        "mov 8(%rsp), %r9",            // argument 6, from the caller's stack
        "call shl_hook_entry_trusted", // the hook: rax = the kernel's result
        "3: cmp $-4095, %rax",         // -4095..-1: an error
        "jae 1f",
        "ret",                       // success: the result
        "1: neg %rax",               // the errno value
        "push %rax",                 // keep it (and align the stack for the call)
        "call __errno_location@PLT", // rax = &errno of this thread
        "pop %rcx",                  // the errno value
        "mov %ecx, (%rax)",          // errno = it
        "mov $-1, %rax",             // glibc's error result
        "ret",
        options(att_syntax)
    )
}

/// Raw syscall with up to six arguments.
#[inline]
pub fn sys(nr: i64, a: [i64; 6]) -> i64 {
    // SAFETY: a raw syscall; the caller passes arguments valid for `nr`.
    unsafe { shl_raw_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]) }
}
