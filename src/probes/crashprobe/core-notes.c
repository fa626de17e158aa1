/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounds-checked decoding of ELF headers and core notes (see core-notes.h).
 * Offsets into the kernel's structures are facts of the Linux ABI:
 * struct elf_prstatus starts with the same 112 bytes (64-bit) or 72 bytes
 * (32-bit) on every architecture, followed by the general registers; the
 * stack pointer's slot among them is per architecture (table below).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "core-notes.h"
#include "macro.h"

struct arch_regs {
        uint16_t machine;
        bool is64;
        size_t pr_reg_offset; /* offsetof(struct elf_prstatus, pr_reg) */
        size_t sp_index;      /* the stack pointer's slot in pr_reg */
};

static const struct arch_regs arch_regs[] = {
        { EM_X86_64, true, 112, 19 },  /* struct user_regs_struct: ..., rsp is the 20th */
        { EM_AARCH64, true, 112, 31 }, /* struct user_pt_regs: x0..x30, sp */
        { EM_386, false, 72, 15 },     /* ebx..ss: uesp is the 16th */
};

/* Common prefix of struct elf_prstatus and struct elf_prpsinfo. */
#define PRSTATUS_CURSIG 12
#define PRSTATUS_PID_64 32
#define PRSTATUS_PID_32 24
#define PRPSINFO_PID_64 24 /* after state, sname, zomb, nice, pad, flag (8), uid, gid (4 each) */
#define PRPSINFO_PID_32 12 /* i386: flag (4), uid and gid (2 each) */

uint16_t elf_u16(const struct elf_layout *l, const uint8_t *p) {
        return l->big_endian ? (uint16_t) (p[0] << 8 | p[1]) : (uint16_t) (p[1] << 8 | p[0]);
}

uint32_t elf_u32(const struct elf_layout *l, const uint8_t *p) {
        uint32_t v = 0;

        for (int i = 0; i < 4; i++)
                v |= (uint32_t) p[l->big_endian ? 3 - i : i] << (8 * i);
        return v;
}

uint64_t elf_u64(const struct elf_layout *l, const uint8_t *p) {
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v |= (uint64_t) p[l->big_endian ? 7 - i : i] << (8 * i);
        return v;
}

uint64_t elf_word(const struct elf_layout *l, const uint8_t *p) {
        return l->is64 ? elf_u64(l, p) : elf_u32(l, p);
}

static void put_bytes(const struct elf_layout *l, uint8_t *p, uint64_t v, int n) {
        for (int i = 0; i < n; i++)
                p[l->big_endian ? n - 1 - i : i] = (uint8_t) (v >> (8 * i));
}

void elf_put_u16(const struct elf_layout *l, uint8_t *p, uint16_t v) {
        put_bytes(l, p, v, 2);
}

void elf_put_u32(const struct elf_layout *l, uint8_t *p, uint32_t v) {
        put_bytes(l, p, v, 4);
}

void elf_put_u64(const struct elf_layout *l, uint8_t *p, uint64_t v) {
        put_bytes(l, p, v, 8);
}

int elf_parse_ehdr(const uint8_t *buf, size_t len, struct elf_layout *ret) {
        struct elf_layout l = {};

        if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
                return -EBADMSG;
        if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
                return -EBADMSG;
        if (buf[EI_DATA] != ELFDATA2LSB && buf[EI_DATA] != ELFDATA2MSB)
                return -EBADMSG;
        l.is64 = buf[EI_CLASS] == ELFCLASS64;
        l.big_endian = buf[EI_DATA] == ELFDATA2MSB;
        l.ehsize = l.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        if (len < l.ehsize)
                return -EBADMSG;
        memcpy(l.ehdr, buf, l.ehsize);

        l.type = elf_u16(&l, buf + 16);
        l.machine = elf_u16(&l, buf + 18);
        if (l.is64) {
                l.phoff = elf_u64(&l, buf + offsetof(Elf64_Ehdr, e_phoff));
                l.phentsize = elf_u16(&l, buf + offsetof(Elf64_Ehdr, e_phentsize));
                l.phnum = elf_u16(&l, buf + offsetof(Elf64_Ehdr, e_phnum));
        } else {
                l.phoff = elf_u32(&l, buf + offsetof(Elf32_Ehdr, e_phoff));
                l.phentsize = elf_u16(&l, buf + offsetof(Elf32_Ehdr, e_phentsize));
                l.phnum = elf_u16(&l, buf + offsetof(Elf32_Ehdr, e_phnum));
        }
        if (l.phentsize != (l.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
                return -EBADMSG;
        if (l.phnum == PN_XNUM)
                return -E2BIG;
        if (l.phnum == 0)
                return -EBADMSG;
        *ret = l;
        return 0;
}

void elf_parse_phdr(const struct elf_layout *l, const uint8_t *p, struct elf_phdr *ret) {
        if (l->is64) {
                *ret = (struct elf_phdr) {
                        .type = elf_u32(l, p + offsetof(Elf64_Phdr, p_type)),
                        .flags = elf_u32(l, p + offsetof(Elf64_Phdr, p_flags)),
                        .offset = elf_u64(l, p + offsetof(Elf64_Phdr, p_offset)),
                        .vaddr = elf_u64(l, p + offsetof(Elf64_Phdr, p_vaddr)),
                        .filesz = elf_u64(l, p + offsetof(Elf64_Phdr, p_filesz)),
                        .memsz = elf_u64(l, p + offsetof(Elf64_Phdr, p_memsz)),
                        .align = elf_u64(l, p + offsetof(Elf64_Phdr, p_align)),
                };
                return;
        }
        *ret = (struct elf_phdr) {
                .type = elf_u32(l, p + offsetof(Elf32_Phdr, p_type)),
                .flags = elf_u32(l, p + offsetof(Elf32_Phdr, p_flags)),
                .offset = elf_u32(l, p + offsetof(Elf32_Phdr, p_offset)),
                .vaddr = elf_u32(l, p + offsetof(Elf32_Phdr, p_vaddr)),
                .filesz = elf_u32(l, p + offsetof(Elf32_Phdr, p_filesz)),
                .memsz = elf_u32(l, p + offsetof(Elf32_Phdr, p_memsz)),
                .align = elf_u32(l, p + offsetof(Elf32_Phdr, p_align)),
        };
}

void elf_write_phdr(const struct elf_layout *l, const struct elf_phdr *ph, uint8_t *out) {
        if (l->is64) {
                memset(out, 0, sizeof(Elf64_Phdr));
                elf_put_u32(l, out + offsetof(Elf64_Phdr, p_type), ph->type);
                elf_put_u32(l, out + offsetof(Elf64_Phdr, p_flags), ph->flags);
                elf_put_u64(l, out + offsetof(Elf64_Phdr, p_offset), ph->offset);
                elf_put_u64(l, out + offsetof(Elf64_Phdr, p_vaddr), ph->vaddr);
                elf_put_u64(l, out + offsetof(Elf64_Phdr, p_filesz), ph->filesz);
                elf_put_u64(l, out + offsetof(Elf64_Phdr, p_memsz), ph->memsz);
                elf_put_u64(l, out + offsetof(Elf64_Phdr, p_align), ph->align);
                return;
        }
        memset(out, 0, sizeof(Elf32_Phdr));
        elf_put_u32(l, out + offsetof(Elf32_Phdr, p_type), ph->type);
        elf_put_u32(l, out + offsetof(Elf32_Phdr, p_flags), ph->flags);
        elf_put_u32(l, out + offsetof(Elf32_Phdr, p_offset), (uint32_t) ph->offset);
        elf_put_u32(l, out + offsetof(Elf32_Phdr, p_vaddr), (uint32_t) ph->vaddr);
        elf_put_u32(l, out + offsetof(Elf32_Phdr, p_filesz), (uint32_t) ph->filesz);
        elf_put_u32(l, out + offsetof(Elf32_Phdr, p_memsz), (uint32_t) ph->memsz);
        elf_put_u32(l, out + offsetof(Elf32_Phdr, p_align), (uint32_t) ph->align);
}

void elf_parse_nhdr(const struct elf_layout *l, const uint8_t *p, struct elf_nhdr *ret) {
        *ret = (struct elf_nhdr) {
                .namesz = elf_u32(l, p),
                .descsz = elf_u32(l, p + 4),
                .type = elf_u32(l, p + 8),
        };
}

static const struct arch_regs *arch_regs_find(const struct elf_layout *l) {
        for (size_t i = 0; i < ELEMENTSOF(arch_regs); i++)
                if (arch_regs[i].machine == l->machine && arch_regs[i].is64 == l->is64)
                        return &arch_regs[i];
        return NULL;
}

int core_parse_prstatus(const struct elf_layout *l, const uint8_t *desc, size_t len, struct core_thread *ret) {
        size_t pid_off = l->is64 ? PRSTATUS_PID_64 : PRSTATUS_PID_32, word = l->is64 ? 8 : 4;
        const struct arch_regs *a = arch_regs_find(l);
        struct core_thread t = {};

        if (len < pid_off + 4)
                return -EBADMSG;
        t.cursig = elf_u16(l, desc + PRSTATUS_CURSIG);
        t.tid = (pid_t) elf_u32(l, desc + pid_off);
        if (a && len >= a->pr_reg_offset + (a->sp_index + 1) * word) {
                t.sp = elf_word(l, desc + a->pr_reg_offset + a->sp_index * word);
                t.have_sp = true;
        }
        *ret = t;
        return 0;
}

int core_parse_prpsinfo(const struct elf_layout *l, const uint8_t *desc, size_t len, pid_t *ret_pid) {
        size_t off = l->is64 ? PRPSINFO_PID_64 : PRPSINFO_PID_32;

        if (len < off + 4)
                return -EBADMSG;
        *ret_pid = (pid_t) elf_u32(l, desc + off);
        return 0;
}

int core_parse_siginfo(const struct elf_layout *l, const uint8_t *desc, size_t len, int *ret_signo) {
        if (len < 4)
                return -EBADMSG;
        *ret_signo = (int) elf_u32(l, desc);
        return 0;
}

int core_parse_auxv(const struct elf_layout *l, const uint8_t *desc, size_t len, uint64_t type, uint64_t *ret) {
        size_t word = l->is64 ? 8 : 4;

        for (size_t o = 0; o + 2 * word <= len; o += 2 * word) {
                uint64_t t = elf_word(l, desc + o);

                if (t == AT_NULL)
                        break;
                if (t == type) {
                        *ret = elf_word(l, desc + o + word);
                        return 0;
                }
        }
        return -ENOENT;
}
