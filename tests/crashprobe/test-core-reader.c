/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of crashprobe's streaming core reader on synthetic x86_64 cores
 * built here: what it keeps (small segments whole, stack windows, ELF header
 * pages and the .dynamic ranges they announce) and what it skips, the thread
 * cap, how it finds the crashing thread, and how it copes with short reads,
 * truncation and corrupt headers. The sparse image it builds is checked by
 * reading it back with libelf, as libdwfl will.
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "core-stream.h"
#include "core-test-input.h"

#define PAGE 4096u
#define MAX_SEGS 8
#define MAX_THREADS 8

struct seg_spec {
        uint64_t vaddr;
        size_t size;
        bool elf_header; /* starts with an ELF header announcing a PT_DYNAMIC at dyn_off */
        uint64_t dyn_off;
};

struct core_spec {
        uint16_t type;
        pid_t pid;
        pid_t tids[MAX_THREADS];
        uint64_t sps[MAX_THREADS];
        size_t n_threads;
        int siginfo_thread; /* -1: no NT_SIGINFO */
        struct seg_spec segs[MAX_SEGS];
        size_t n_segs;
};

/* The byte every synthetic address holds, so kept data can be checked. */
static uint8_t pattern(uint64_t vaddr) {
        return (uint8_t) ((vaddr * 2654435761u) >> 13);
}

struct buf {
        uint8_t *p;
        size_t len;
};

static void put(struct buf *b, const void *data, size_t len) {
        b->p = realloc(b->p, b->len + len);
        ck_assert_ptr_nonnull(b->p);
        memcpy(b->p + b->len, data, len);
        b->len += len;
}

static void put_note(struct buf *b, uint32_t type, const char *name, const void *desc, uint32_t descsz) {
        uint32_t namesz = (uint32_t) strlen(name) + 1, hdr[3] = { namesz, descsz, type };
        uint8_t pad[8] = {};

        put(b, hdr, sizeof(hdr));
        put(b, name, namesz);
        put(b, pad, (4 - namesz % 4) % 4);
        put(b, desc, descsz);
        put(b, pad, (4 - descsz % 4) % 4);
}

static void put_thread_notes(struct buf *b, const struct core_spec *c, size_t i) {
        uint8_t prstatus[336] = {}, fpregs[512] = {}, siginfo[128] = {};
        int32_t tid = c->tids[i], signo = 11;
        int16_t cursig = 11;

        memcpy(prstatus + 12, &cursig, 2);
        memcpy(prstatus + 32, &tid, 4);
        memcpy(prstatus + 112 + 19 * 8, &c->sps[i], 8);
        put_note(b, NT_PRSTATUS, "CORE", prstatus, sizeof(prstatus));
        if (i == 0) {
                uint8_t prpsinfo[136] = {};
                uint64_t auxv[4] = { AT_SYSINFO_EHDR, 0x7fff00000000, AT_NULL, 0 };
                int32_t pid = c->pid;

                memcpy(prpsinfo + 24, &pid, 4);
                put_note(b, NT_PRPSINFO, "CORE", prpsinfo, sizeof(prpsinfo));
                put_note(b, NT_AUXV, "CORE", auxv, sizeof(auxv));
        }
        if ((int) i == c->siginfo_thread) {
                memcpy(siginfo, &signo, 4);
                put_note(b, NT_SIGINFO, "CORE", siginfo, sizeof(siginfo));
        }
        put_note(b, NT_FPREGSET, "CORE", fpregs, sizeof(fpregs));
}

static void fill_segment(uint8_t *p, const struct seg_spec *s) {
        for (size_t i = 0; i < s->size; i++)
                p[i] = pattern(s->vaddr + i);
        if (s->elf_header) {
                Elf64_Ehdr eh = { .e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                                  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
                                  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2 };
                Elf64_Phdr ph[2] = {
                        { .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = 0, .p_filesz = s->size, .p_memsz = s->size,
                          .p_align = PAGE },
                        { .p_type = PT_DYNAMIC, .p_offset = s->dyn_off, .p_vaddr = s->dyn_off, .p_filesz = 0x100,
                          .p_memsz = 0x100, .p_align = 8 },
                };

                memcpy(eh.e_ident, ELFMAG, SELFMAG);
                eh.e_ident[EI_CLASS] = ELFCLASS64;
                eh.e_ident[EI_DATA] = ELFDATA2LSB;
                eh.e_ident[EI_VERSION] = EV_CURRENT;
                memcpy(p, &eh, sizeof(eh));
                memcpy(p + sizeof(eh), ph, sizeof(ph));
        }
}

/* ELF header, program headers, notes, then the segments page-aligned. */
static uint8_t *build_core(const struct core_spec *c, size_t *ret_size) {
        size_t phnum = 1 + c->n_segs, off;
        struct buf notes = {}, out = {};
        Elf64_Ehdr eh = { .e_type = c->type, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                          .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
                          .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = (uint16_t) phnum };
        Elf64_Phdr ph;

        for (size_t i = 0; i < c->n_threads; i++)
                put_thread_notes(&notes, c, i);
        memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = ELFCLASS64;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_ident[EI_VERSION] = EV_CURRENT;
        put(&out, &eh, sizeof(eh));

        off = sizeof(eh) + phnum * sizeof(Elf64_Phdr);
        ph = (Elf64_Phdr) { .p_type = PT_NOTE, .p_offset = off, .p_filesz = notes.len, .p_align = 4 };
        put(&out, &ph, sizeof(ph));
        off = (off + notes.len + PAGE - 1) / PAGE * PAGE;
        for (size_t i = 0; i < c->n_segs; i++) {
                ph = (Elf64_Phdr) { .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = off,
                                    .p_vaddr = c->segs[i].vaddr, .p_filesz = c->segs[i].size,
                                    .p_memsz = c->segs[i].size, .p_align = PAGE };
                put(&out, &ph, sizeof(ph));
                off += c->segs[i].size;
        }
        put(&out, notes.p, notes.len);
        free(notes.p);
        out.p = realloc(out.p, off);
        ck_assert_ptr_nonnull(out.p);
        memset(out.p + out.len, 0, (out.len + PAGE - 1) / PAGE * PAGE - out.len);
        out.len = (out.len + PAGE - 1) / PAGE * PAGE;
        for (size_t i = 0; i < c->n_segs; i++) {
                fill_segment(out.p + out.len, &c->segs[i]);
                out.len += c->segs[i].size;
        }
        *ret_size = out.len;
        return out.p;
}

/* A process like the kernel dumps it: a small data segment, a 4 MiB heap,
 * a 256 KiB library with an ELF header, two threads' stacks. */
static struct core_spec typical(void) {
        return (struct core_spec) {
                .type = ET_CORE,
                .pid = 4242,
                .tids = { 4242, 4243 },
                .sps = { 0x7ffd00080000 + 0x123, 0x7f0000100000 - 0x2000 },
                .n_threads = 2,
                .siginfo_thread = 0,
                .segs = {
                        { 0x555500000000, 16 * 1024, false, 0 },
                        { 0x555600000000, 4 * 1024 * 1024, false, 0 },
                        { 0x7f0000000000, 1024 * 1024, false, 0 },
                        { 0x7f1000000000, 256 * 1024, true, 128 * 1024 },
                        { 0x7ffd00000000, 1024 * 1024, false, 0 },
                },
                .n_segs = 5,
        };
}

/* Whether [vaddr, vaddr+len) is in the image, with the right bytes. */
static bool image_has(const struct core_info *info, uint64_t vaddr, size_t len) {
        Elf *elf = elf_memory((char *) info->image.buf, info->image.size);
        size_t n, found = 0;

        ck_assert_ptr_nonnull(elf);
        ck_assert_int_eq(elf_getphdrnum(elf, &n), 0);
        for (size_t i = 0; i < n; i++) {
                GElf_Phdr ph;

                ck_assert_ptr_nonnull(gelf_getphdr(elf, (int) i, &ph));
                if (ph.p_type != PT_LOAD || vaddr < ph.p_vaddr || vaddr + len > ph.p_vaddr + ph.p_filesz)
                        continue;
                ck_assert_uint_le(ph.p_offset + ph.p_filesz, info->image.size);
                found = 1;
                /* One assertion per range: Check reports every passed one to its parent. */
                for (size_t k = 0; k < len; k++)
                        if (info->image.buf[ph.p_offset + vaddr - ph.p_vaddr + k] != pattern(vaddr + k))
                                found = 2;
                ck_assert_msg(found == 1, "wrong bytes kept at 0x%llx", (unsigned long long) vaddr);
        }
        elf_end(elf);
        return found;
}

static int read_core(const uint8_t *data, size_t size, size_t chunk, const struct core_caps *caps, bool keep,
                     struct core_info *info) {
        struct mem_input m = { .data = data, .size = size, .chunk = chunk };
        struct core_input in = mem_input_make(&m);

        return core_read(&in, caps, keep, info);
}

START_TEST(test_typical_core) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core = build_core(&c, &size);

        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), 0);
        ck_assert(info.have_pid);
        ck_assert_int_eq(info.pid, 4242);
        ck_assert_uint_eq(info.n_threads, 2);
        ck_assert_uint_eq(info.total_threads, 2);
        ck_assert_uint_eq(info.crash_index, 0);
        ck_assert_int_eq(info.siginfo_signo, 11);
        ck_assert(!info.truncated);
        /* small data segment: whole */
        ck_assert(image_has(&info, 0x555500000000, 16 * 1024));
        /* heap: nothing, not even its first page (no ELF header there) */
        ck_assert(!image_has(&info, 0x555600000000, 1));
        ck_assert(!image_has(&info, 0x555600000000 + 2 * 1024 * 1024, 1));
        /* library: its ELF header page and its .dynamic, not the middle */
        ck_assert(image_has(&info, 0x7f1000000000 + 0x200, PAGE - 0x200)); /* after its headers */
        ck_assert(image_has(&info, 0x7f1000000000 + 128 * 1024, 0x100));
        ck_assert(!image_has(&info, 0x7f1000000000 + 64 * 1024, 1));
        /* crashing thread: from just below sp to the end of its stack */
        ck_assert(image_has(&info, 0x7ffd00080000, 1024 * 1024 - 0x80000));
        ck_assert(!image_has(&info, 0x7ffd00080000 - PAGE, 1));
        ck_assert(!info.stack_clipped[0]);
        /* second thread: sp is 8 KiB below the end of its 1 MiB segment */
        ck_assert(image_has(&info, 0x7f0000100000 - 0x2000, 0x2000));
        ck_assert(!image_has(&info, 0x7f0000000000, 1));
        /* kept far less than the 6.3 MiB of memory in the core */
        ck_assert_uint_lt(info.image.size, 600 * 1024);
        core_info_done(&info);
        free(core);
}
END_TEST

START_TEST(test_short_reads_same_image) {
        static const size_t chunks[] = { 1, 13, 4095, 65536, 0 };
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info ref, info;
        size_t size;
        uint8_t *core = build_core(&c, &size);

        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &ref), 0);
        for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
                ck_assert_int_eq(read_core(core, size, chunks[i], &caps, true, &info), 0);
                ck_assert_uint_eq(info.image.size, ref.image.size);
                ck_assert_int_eq(memcmp(info.image.buf, ref.image.buf, ref.image.size), 0);
                core_info_done(&info);
        }
        core_info_done(&ref);
        free(core);
}
END_TEST

START_TEST(test_facts_only) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core = build_core(&c, &size);

        ck_assert_int_eq(read_core(core, size, 0, &caps, false, &info), 0);
        ck_assert(!info.have_image);
        ck_assert_int_eq(info.pid, 4242);
        ck_assert_uint_eq(info.n_threads, 2);
        ck_assert_int_eq(info.threads[1].tid, 4243);
        ck_assert(info.threads[1].have_sp);
        ck_assert_uint_eq(info.threads[1].sp, 0x7f0000100000 - 0x2000);
        /* It stopped after the notes. */
        ck_assert_uint_lt(info.bytes_consumed, 2 * PAGE);
        core_info_done(&info);
        free(core);
}
END_TEST

START_TEST(test_thread_cap_and_crashing_thread) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core;

        c.n_threads = 5;
        for (size_t i = 0; i < 5; i++) {
                c.tids[i] = (pid_t) (100 + i);
                c.sps[i] = 0x7f0000100000 - 0x1000 * (i + 1);
        }
        c.siginfo_thread = 1;
        caps.threads_max = 2;
        core = build_core(&c, &size);
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), 0);
        ck_assert_uint_eq(info.total_threads, 5);
        ck_assert_uint_eq(info.n_threads, 2);
        ck_assert_uint_eq(info.crash_index, 1);
        ck_assert_int_eq(info.threads[info.crash_index].tid, 101);
        core_info_done(&info);
        free(core);
}
END_TEST

START_TEST(test_stack_window_clipped) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core;

        /* 4 MiB stack, sp near its bottom: only 1 MiB above sp is kept. */
        c.segs[4] = (struct seg_spec) { 0x7ffd00000000, 4 * 1024 * 1024, false, 0 };
        c.sps[0] = 0x7ffd00000000 + 0x10000;
        core = build_core(&c, &size);
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), 0);
        ck_assert(info.stack_clipped[0]);
        ck_assert(!info.stack_clipped[1]);
        ck_assert(image_has(&info, c.sps[0] - 64, 1024 * 1024));
        ck_assert(!image_has(&info, c.sps[0] + 2 * 1024 * 1024, 1));
        core_info_done(&info);
        free(core);
}
END_TEST

START_TEST(test_truncated_anywhere) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        size_t size;
        uint8_t *core = build_core(&c, &size);

        /* Every cut in the headers and notes, then coarser through the data. */
        for (size_t cut = 0; cut < size; cut += cut < 3 * PAGE ? 11 : 65521) {
                struct core_info info;
                int r = read_core(core, cut, 0, &caps, true, &info);

                if (cut < sizeof(Elf64_Ehdr))
                        ck_assert_int_eq(r, -EBADMSG);
                else if (r == 0) {
                        ck_assert(info.truncated);
                        ck_assert_int_eq(info.pid, 4242);
                        core_info_done(&info);
                } else
                        ck_assert_int_eq(r, -ENODATA);
        }
        free(core);
}
END_TEST

START_TEST(test_truncated_in_heap_keeps_facts) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core = build_core(&c, &size);

        /* Cut in the middle of the heap: the stacks after it are lost. */
        ck_assert_int_eq(read_core(core, 3 * PAGE + 16 * 1024 + 1024 * 1024, 0, &caps, true, &info), 0);
        ck_assert(info.truncated);
        ck_assert_int_eq(info.input_error, 0);
        ck_assert_uint_eq(info.n_threads, 2);
        ck_assert(image_has(&info, 0x555500000000, 16 * 1024));
        ck_assert(!image_has(&info, 0x7ffd00080000, 1));
        core_info_done(&info);
        free(core);
}
END_TEST

START_TEST(test_not_a_core) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core;

        c.type = ET_EXEC;
        core = build_core(&c, &size);
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), -ENOEXEC);
        core[0] = 'X';
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), -EBADMSG);
        free(core);
}
END_TEST

START_TEST(test_corrupt_headers) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core = build_core(&c, &size);
        Elf64_Ehdr *eh = (Elf64_Ehdr *) core;
        Elf64_Phdr *ph = (Elf64_Phdr *) (core + eh->e_phoff);
        uint32_t *nh = (uint32_t *) (core + ph[0].p_offset);

        /* Extended numbering cannot be streamed. */
        eh->e_phnum = PN_XNUM;
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), -E2BIG);
        eh->e_phnum = (uint16_t) (1 + c.n_segs);

        /* A note claiming 4 GiB: the notes end there, no thread is found. */
        nh[1] = 0xfffffff0u;
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), -ENODATA);
        nh[1] = 336;

        /* Segments that overlap the notes and each other, and wrap around. */
        ph[1].p_offset = 0;
        ph[2].p_offset = ph[3].p_offset;
        ph[3].p_vaddr = UINT64_MAX - 10;
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), 0);
        ck_assert(!image_has(&info, c.segs[0].vaddr, 1));
        core_info_done(&info);
        free(core);
}
END_TEST

START_TEST(test_memory_budget) {
        struct core_spec c = typical();
        struct core_caps caps = core_caps_default();
        struct core_info info;
        size_t size;
        uint8_t *core = build_core(&c, &size);

        /* An image too small for the stacks: they are dropped, not overrun. */
        caps.image_max = caps.notes_max + 8 * 1024 * 1024;
        caps.stack_window_crashing = 16 * 1024 * 1024;
        ck_assert_int_eq(read_core(core, size, 0, &caps, true, &info), 0);
        ck_assert_uint_le(info.image.size, caps.image_max);
        core_info_done(&info);
        free(core);
}
END_TEST

static Suite *core_reader_suite(void) {
        Suite *s = suite_create("core-reader");
        TCase *tc = tcase_create("core-reader");

        tcase_add_test(tc, test_typical_core);
        tcase_add_test(tc, test_short_reads_same_image);
        tcase_add_test(tc, test_facts_only);
        tcase_add_test(tc, test_thread_cap_and_crashing_thread);
        tcase_add_test(tc, test_stack_window_clipped);
        tcase_add_test(tc, test_truncated_anywhere);
        tcase_add_test(tc, test_truncated_in_heap_keeps_facts);
        tcase_add_test(tc, test_not_a_core);
        tcase_add_test(tc, test_corrupt_headers);
        tcase_add_test(tc, test_memory_budget);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(core_reader_suite());
        int failed;

        elf_version(EV_CURRENT);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
