/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * elf_inflate_copy() on a real file: a crash program built with -g, and its
 * copy with debug sections compressed by objcopy. Inflating the compressed
 * copy must give back every section of the original, byte for byte, with
 * the same flags, and a build-id note found where the program headers say.
 * Damaged input is refused, never half copied as if whole.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf-inflate.h"
#include "test-util.h"

static const char *plain_path, *compressed_path;

static int memfd_with(const void *buf, size_t len) {
        int fd = memfd_create("elf", MFD_CLOEXEC);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, buf, len), (ssize_t) len);
        return fd;
}

static void *read_all(const char *path, size_t *len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        void *buf;

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(fstat(fd, &st), 0);
        buf = malloc((size_t) st.st_size);
        ck_assert_ptr_nonnull(buf);
        ck_assert_int_eq(read(fd, buf, (size_t) st.st_size), st.st_size);
        close(fd);
        *len = (size_t) st.st_size;
        return buf;
}

/* The build-id note's bytes, found through PT_NOTE. */
static size_t build_id_note(Elf *e, const char **ret) {
        size_t n;

        ck_assert_int_eq(elf_getphdrnum(e, &n), 0);
        for (size_t i = 0; i < n; i++) {
                GElf_Phdr ph;
                Elf_Data *d;

                ck_assert_ptr_nonnull(gelf_getphdr(e, (int) i, &ph));
                if (ph.p_type != PT_NOTE)
                        continue;
                d = elf_getdata_rawchunk(e, (int64_t) ph.p_offset, ph.p_filesz, ELF_T_NHDR);
                if (d && d->d_size >= 16 && memcmp((const char *) d->d_buf + 12, "GNU", 4) == 0 &&
                    ((const uint32_t *) d->d_buf)[2] == NT_GNU_BUILD_ID) {
                        *ret = d->d_buf;
                        return d->d_size;
                }
        }
        return 0;
}

static void same_sections(Elf *a, Elf *b) {
        size_t na, nb, stra;

        ck_assert_int_eq(elf_getshdrnum(a, &na), 0);
        ck_assert_int_eq(elf_getshdrnum(b, &nb), 0);
        ck_assert_uint_eq(na, nb);
        ck_assert_int_eq(elf_getshdrstrndx(a, &stra), 0);
        for (size_t i = 1; i < na; i++) {
                Elf_Scn *sa = elf_getscn(a, i), *sb = elf_getscn(b, i);
                GElf_Shdr ha, hb;
                Elf_Data *da, *db;

                ck_assert_ptr_nonnull(gelf_getshdr(sa, &ha));
                ck_assert_ptr_nonnull(gelf_getshdr(sb, &hb));
                ck_assert_msg(ha.sh_type == hb.sh_type && ha.sh_flags == hb.sh_flags && ha.sh_size == hb.sh_size,
                              "section %zu (%s) differs", i, elf_strptr(a, stra, ha.sh_name));
                if (ha.sh_type == SHT_NOBITS || ha.sh_size == 0)
                        continue;
                da = elf_rawdata(sa, NULL);
                db = elf_rawdata(sb, NULL);
                ck_assert(da && db && da->d_size == db->d_size);
                ck_assert_msg(memcmp(da->d_buf, db->d_buf, da->d_size) == 0, "section %zu (%s): other bytes", i,
                              elf_strptr(a, stra, ha.sh_name));
        }
}

START_TEST(inflates_to_the_original) {
        int plain = open(plain_path, O_RDONLY | O_CLOEXEC), comp = open(compressed_path, O_RDONLY | O_CLOEXEC);
        int out = memfd_create("out", MFD_CLOEXEC);
        const char *note_a, *note_b;
        uint64_t estimate;
        struct stat st;
        size_t la, lb;
        Elf *a, *b;

        ck_assert(plain >= 0 && comp >= 0 && out >= 0);
        ck_assert_int_eq(elf_has_compressed_sections(plain), 0);
        ck_assert_int_eq(elf_has_compressed_sections(comp), 1);
        ck_assert_int_eq(elf_inflated_size(comp, &estimate), 0);
        ck_assert_int_eq(elf_inflate_copy(comp, out), 0);
        ck_assert_int_eq(elf_has_compressed_sections(out), 0);
        ck_assert_int_eq(fstat(out, &st), 0);
        /* the estimate is a bound, off by at most the alignment padding */
        ck_assert_uint_le((uint64_t) st.st_size, estimate);
        ck_assert_uint_le(estimate, (uint64_t) st.st_size + 4096);

        elf_version(EV_CURRENT);
        a = elf_begin(plain, ELF_C_READ, NULL);
        b = elf_begin(out, ELF_C_READ, NULL);
        ck_assert(a && b);
        same_sections(a, b);
        la = build_id_note(a, &note_a);
        lb = build_id_note(b, &note_b);
        ck_assert_uint_gt(la, 16);
        ck_assert(la == lb && memcmp(note_a, note_b, la) == 0);
        elf_end(a);
        elf_end(b);
        close(plain);
        close(comp);
        close(out);
}
END_TEST

static int inflate_bytes(const void *buf, size_t len) {
        int in = memfd_with(buf, len), out = memfd_create("out", MFD_CLOEXEC), r;

        r = elf_inflate_copy(in, out);
        close(in);
        close(out);
        return r;
}

START_TEST(damaged_input_is_refused) {
        size_t len;
        char *buf = read_all(compressed_path, &len);
        Elf64_Ehdr *eh = (Elf64_Ehdr *) buf;
        Elf64_Shdr *sh = (Elf64_Shdr *) (buf + eh->e_shoff);
        unsigned damaged = 0;

        ck_assert_int_eq(inflate_bytes("not an ELF file at all, not even close", 38), -EBADMSG);
        ck_assert_int_eq(inflate_bytes(buf, 40), -EBADMSG); /* cut inside the ELF header */
        ck_assert_int_eq(inflate_bytes(buf, len / 2), -EBADMSG); /* section headers past the end */

        /* A zlib stream with its middle overwritten. */
        for (unsigned i = 1; i < eh->e_shnum && !damaged; i++)
                if ((sh[i].sh_flags & SHF_COMPRESSED) && sh[i].sh_size > 64) {
                        memset(buf + sh[i].sh_offset + 24 + 8, 0xff, (size_t) (sh[i].sh_size - 24 - 8));
                        damaged = i;
                }
        ck_assert_uint_gt(damaged, 0);
        ck_assert_int_eq(inflate_bytes(buf, len), -EBADMSG);
        free(buf);
}
END_TEST

int main(int argc, char *argv[]) {
        Suite *s = suite_create("crashprobe-elf-inflate");
        TCase *tc = tcase_create("inflate");

        if (argc != 3) {
                fprintf(stderr, "usage: %s PLAIN-ELF COMPRESSED-ELF\n", argv[0]);
                return 2;
        }
        plain_path = argv[1];
        compressed_path = argv[2];
        tcase_add_test(tc, inflates_to_the_original);
        tcase_add_test(tc, damaged_input_is_refused);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
