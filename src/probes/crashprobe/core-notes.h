/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Decoding the parts of an ELF core that crashprobe reads itself: the file
 * header, program headers, note headers and the few notes it needs
 * (NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV). Everything is untrusted:
 * every function takes the length of what it may read and checks it first.
 * 32- and 64-bit cores of either byte order are decoded; the register layout
 * (for the stack pointer) is known for x86_64, i386 and aarch64.
 * No allocation, no libelf: this is what the fuzzer exercises.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ELF_EHDR_MAX 64 /* sizeof(Elf64_Ehdr) */
#define ELF_PHNUM_MAX 0xfffe /* PN_XNUM (0xffff) means "more", which a stream cannot honour */

struct elf_layout {
        uint8_t ehdr[ELF_EHDR_MAX]; /* the raw header, copied into a synthesized image */
        size_t ehsize;              /* 52 or 64 */
        bool is64;
        bool big_endian;
        uint16_t type; /* ET_CORE, ET_DYN, ... */
        uint16_t machine;
        uint64_t phoff;
        size_t phnum;
        size_t phentsize;
};

struct elf_phdr {
        uint32_t type;
        uint32_t flags;
        uint64_t offset;
        uint64_t vaddr;
        uint64_t filesz;
        uint64_t memsz;
        uint64_t align;
};

struct elf_nhdr {
        uint32_t namesz;
        uint32_t descsz;
        uint32_t type;
};

#define ELF_NHDR_SIZE 12

/* What one NT_PRSTATUS says about a thread. */
struct core_thread {
        pid_t tid;
        int cursig;
        uint64_t sp;
        bool have_sp; /* false when the architecture's register layout is unknown */
};

uint16_t elf_u16(const struct elf_layout *l, const uint8_t *p);
uint32_t elf_u32(const struct elf_layout *l, const uint8_t *p);
uint64_t elf_u64(const struct elf_layout *l, const uint8_t *p);
/* A target word: 4 or 8 bytes depending on the class. */
uint64_t elf_word(const struct elf_layout *l, const uint8_t *p);
void elf_put_u16(const struct elf_layout *l, uint8_t *p, uint16_t v);
void elf_put_u32(const struct elf_layout *l, uint8_t *p, uint32_t v);
void elf_put_u64(const struct elf_layout *l, uint8_t *p, uint64_t v);

/*
 * Decode an ELF file header of any type from buf[0..len). Returns 0, or
 * -EBADMSG if it is not ELF, has an unknown class or byte order, an
 * unexpected program header entry size, or no program headers; -E2BIG if it
 * uses extended numbering (PN_XNUM).
 */
int elf_parse_ehdr(const uint8_t *buf, size_t len, struct elf_layout *ret);

/* Decode one program header; p points at phentsize readable bytes. */
void elf_parse_phdr(const struct elf_layout *l, const uint8_t *p, struct elf_phdr *ret);
/* Encode one program header in the layout's class and byte order. */
void elf_write_phdr(const struct elf_layout *l, const struct elf_phdr *ph, uint8_t *out);

/* Decode a note header; p points at ELF_NHDR_SIZE readable bytes. */
void elf_parse_nhdr(const struct elf_layout *l, const uint8_t *p, struct elf_nhdr *ret);
/* Notes in core files are padded to 4 bytes. */
static inline uint64_t elf_note_pad(uint64_t n) {
        return (n + 3) & ~(uint64_t) 3;
}

/* NT_PRSTATUS. Returns 0 or -EBADMSG if the note is too short for its class. */
int core_parse_prstatus(const struct elf_layout *l, const uint8_t *desc, size_t len, struct core_thread *ret);
/* NT_PRPSINFO: the process id. */
int core_parse_prpsinfo(const struct elf_layout *l, const uint8_t *desc, size_t len, pid_t *ret_pid);
/* NT_SIGINFO: the signal number. */
int core_parse_siginfo(const struct elf_layout *l, const uint8_t *desc, size_t len, int *ret_signo);
/* NT_AUXV: the value of one entry; -ENOENT if absent. */
int core_parse_auxv(const struct elf_layout *l, const uint8_t *desc, size_t len, uint64_t type, uint64_t *ret);
