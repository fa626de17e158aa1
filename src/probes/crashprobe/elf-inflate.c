/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ELF rewriter of elf-inflate.h. The output keeps the ELF header, the
 * program headers (right after the ELF header) and every section in index
 * order, each at its alignment; a compressed section is inflated in 64 KiB
 * steps straight into the output, so memory stays at two buffers whatever
 * the file. Every offset and size read from the input is checked against
 * the file before it is used.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "elf-inflate.h"
#include "fileio.h"
#include "macro.h"

#define CHUNK (64 * 1024)
#define SECTION_MAX (UINT64_C(1) << 32) /* the largest section inflated */
#define ALIGN_MAX 65536

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

struct elf_in {
        int fd;
        uint64_t size;
        Elf64_Ehdr eh;
        Elf64_Shdr *sh;
};

struct out {
        int fd;
        uint64_t pos;
        char *in_buf, *out_buf; /* CHUNK bytes each */
};

static int pread_full(int fd, void *buf, size_t n, uint64_t off) {
        ssize_t got = pread(fd, buf, n, (off_t) off);

        if (got < 0)
                return -errno;
        return (size_t) got == n ? 0 : -EBADMSG;
}

/* [off, off + len) lies within a file of size bytes. */
static bool in_file(uint64_t off, uint64_t len, uint64_t size) {
        return off <= size && len <= size - off;
}

static int check_ehdr(const Elf64_Ehdr *eh, uint64_t size) {
        if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
            eh->e_ident[EI_DATA] != HOST_DATA || eh->e_ident[EI_VERSION] != EV_CURRENT)
                return -EBADMSG;
        if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 || eh->e_shnum >= SHN_LORESERVE ||
            !in_file(eh->e_shoff, (uint64_t) eh->e_shnum * sizeof(Elf64_Shdr), size))
                return -EBADMSG;
        if (eh->e_phnum > 0 && (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum >= PN_XNUM ||
                                !in_file(eh->e_phoff, (uint64_t) eh->e_phnum * sizeof(Elf64_Phdr), size)))
                return -EBADMSG;
        return 0;
}

static void elf_in_done(struct elf_in *in) {
        free(in->sh);
        in->sh = NULL;
}

static int read_headers(int fd, struct elf_in *in) {
        struct stat st;
        int r;

        *in = (struct elf_in) { .fd = fd };
        if (fstat(fd, &st) < 0)
                return -errno;
        in->size = (uint64_t) st.st_size;
        r = pread_full(fd, &in->eh, sizeof(in->eh), 0);
        if (r < 0)
                return r;
        r = check_ehdr(&in->eh, in->size);
        if (r < 0)
                return r;
        in->sh = calloc(in->eh.e_shnum, sizeof(Elf64_Shdr));
        if (!in->sh)
                return -ENOMEM;
        r = pread_full(fd, in->sh, in->eh.e_shnum * sizeof(Elf64_Shdr), in->eh.e_shoff);
        for (unsigned i = 1; r >= 0 && i < in->eh.e_shnum; i++)
                if (in->sh[i].sh_type != SHT_NOBITS && !in_file(in->sh[i].sh_offset, in->sh[i].sh_size, in->size))
                        r = -EBADMSG;
        if (r < 0)
                elf_in_done(in);
        return r;
}

static bool compressed(const Elf64_Shdr *s) {
        return s->sh_type != SHT_NOBITS && (s->sh_flags & SHF_COMPRESSED);
}

int elf_has_compressed_sections(int fd) {
        struct elf_in in;
        int r = read_headers(fd, &in), found = 0;

        if (r < 0)
                return r;
        for (unsigned i = 1; i < in.eh.e_shnum && !found; i++)
                found = compressed(&in.sh[i]);
        elf_in_done(&in);
        return found;
}

static bool valid_align(uint64_t a) {
        return a <= ALIGN_MAX && (a & (a - 1)) == 0; /* 0 and 1 mean none */
}

int elf_inflated_size(int fd, uint64_t *ret) {
        struct elf_in in;
        int r = read_headers(fd, &in);
        uint64_t total;

        if (r < 0)
                return r;
        total = sizeof(Elf64_Ehdr) + (uint64_t) in.eh.e_phnum * sizeof(Elf64_Phdr) +
                (uint64_t) in.eh.e_shnum * sizeof(Elf64_Shdr);
        for (unsigned i = 1; r >= 0 && i < in.eh.e_shnum; i++) {
                const Elf64_Shdr *s = &in.sh[i];
                Elf64_Chdr ch;

                if (s->sh_type == SHT_NOBITS)
                        continue;
                if (!compressed(s)) {
                        total += s->sh_size + (valid_align(s->sh_addralign) && s->sh_addralign > 1
                                                       ? s->sh_addralign - 1 : 0);
                        continue;
                }
                r = s->sh_size < sizeof(ch) ? -EBADMSG : pread_full(fd, &ch, sizeof(ch), s->sh_offset);
                if (r >= 0 && (ch.ch_size > SECTION_MAX || !valid_align(ch.ch_addralign)))
                        r = -EBADMSG;
                if (r >= 0)
                        total += ch.ch_size + (ch.ch_addralign > 1 ? ch.ch_addralign - 1 : 0);
        }
        elf_in_done(&in);
        if (r >= 0)
                *ret = total;
        return r;
}

/* ---- output ---------------------------------------------------------------- */

static int put(struct out *o, const void *buf, size_t n) {
        int r = loop_write(o->fd, buf, n);

        if (r < 0)
                return r;
        o->pos += n;
        return 0;
}

static int pad_to(struct out *o, uint64_t align) {
        static const char zeros[ALIGN_MAX];
        uint64_t pad = align > 1 ? (align - o->pos % align) % align : 0;

        return put(o, zeros, (size_t) pad);
}

static int copy_range(struct elf_in *in, struct out *o, uint64_t off, uint64_t len) {
        while (len > 0) {
                size_t n = (size_t) MIN(len, (uint64_t) CHUNK);
                int r = pread_full(in->fd, o->in_buf, n, off);

                if (r < 0 || (r = put(o, o->in_buf, n)) < 0)
                        return r;
                off += n;
                len -= n;
        }
        return 0;
}

/* Inflate the zlib stream at [off, off + len) into the output; it must
 * give exactly want bytes. */
static int inflate_range(struct elf_in *in, struct out *o, uint64_t off, uint64_t len, uint64_t want) {
        z_stream zs = {};
        uint64_t produced = 0;
        int z, r = 0;

        if (inflateInit(&zs) != Z_OK)
                return -ENOMEM;
        do {
                if (zs.avail_in == 0 && len > 0) {
                        size_t n = (size_t) MIN(len, (uint64_t) CHUNK);
                        if ((r = pread_full(in->fd, o->in_buf, n, off)) < 0)
                                break;
                        zs.next_in = (Bytef *) o->in_buf;
                        zs.avail_in = (uInt) n;
                        off += n;
                        len -= n;
                }
                zs.next_out = (Bytef *) o->out_buf;
                zs.avail_out = CHUNK;
                z = inflate(&zs, Z_NO_FLUSH);
                if (z != Z_OK && z != Z_STREAM_END && !(z == Z_BUF_ERROR && len > 0)) {
                        r = -EBADMSG; /* corrupt, or cut short */
                        break;
                }
                if (produced + (CHUNK - zs.avail_out) > want) {
                        r = -EBADMSG;
                        break;
                }
                r = put(o, o->out_buf, CHUNK - zs.avail_out);
                produced += CHUNK - zs.avail_out;
        } while (r >= 0 && z != Z_STREAM_END);
        inflateEnd(&zs);
        if (r >= 0 && produced != want)
                r = -EBADMSG;
        return r;
}

/* Write section s of in at the output's position (after its alignment),
 * and describe it in ret (a copy of s, adjusted). */
static int put_section(struct elf_in *in, struct out *o, const Elf64_Shdr *s, Elf64_Shdr *ret) {
        Elf64_Chdr ch;
        int r;

        *ret = *s;
        if (s->sh_type == SHT_NOBITS) {
                ret->sh_offset = o->pos;
                return 0;
        }
        if (!compressed(s)) {
                if (!valid_align(s->sh_addralign))
                        return -EBADMSG;
                r = pad_to(o, s->sh_addralign);
                if (r < 0)
                        return r;
                ret->sh_offset = o->pos;
                return copy_range(in, o, s->sh_offset, s->sh_size);
        }
        if (s->sh_size < sizeof(ch))
                return -EBADMSG;
        r = pread_full(in->fd, &ch, sizeof(ch), s->sh_offset);
        if (r < 0)
                return r;
        if (ch.ch_type != ELFCOMPRESS_ZLIB)
                return -ENOTSUP;
        if (ch.ch_size > SECTION_MAX || !valid_align(ch.ch_addralign))
                return -EBADMSG;
        r = pad_to(o, ch.ch_addralign);
        if (r < 0)
                return r;
        ret->sh_offset = o->pos;
        ret->sh_size = ch.ch_size;
        ret->sh_addralign = ch.ch_addralign;
        ret->sh_flags &= ~(uint64_t) SHF_COMPRESSED;
        return inflate_range(in, o, s->sh_offset + sizeof(ch), s->sh_size - sizeof(ch), ch.ch_size);
}

/* Point a segment at the new place of the bytes it covered. That needs
 * every section with bytes in it to have moved by the same amount, and none
 * of them to be inflated (a PT_NOTE usually spans two or three note
 * sections, which keep their relative places). A segment that cannot be
 * moved so is emptied (p_filesz 0) rather than left pointing at other
 * bytes: in a separate debug file, segments only mirror the program's, and
 * the notes can still be found through their sections. */
static void move_segment(const struct elf_in *in, const Elf64_Shdr *sh, Elf64_Phdr *ph) {
        uint64_t start = ph->p_offset, end = ph->p_offset + ph->p_filesz;
        bool found = false, ok = end >= start;
        int64_t delta = 0;

        if (ph->p_filesz == 0)
                return;
        for (unsigned i = 1; ok && i < in->eh.e_shnum; i++) {
                const Elf64_Shdr *s = &in->sh[i];
                int64_t d = (int64_t) (sh[i].sh_offset - s->sh_offset);

                if (s->sh_type == SHT_NOBITS || s->sh_size == 0 || s->sh_offset >= end ||
                    s->sh_offset + s->sh_size <= start)
                        continue; /* no bytes in the segment */
                ok = !compressed(s) && (!found || d == delta);
                found = true;
                delta = d;
        }
        if (found && ok && (int64_t) start + delta >= 0)
                ph->p_offset = (uint64_t) ((int64_t) start + delta);
        else
                ph->p_filesz = 0;
}

static int put_segments(struct elf_in *in, struct out *o, Elf64_Phdr **ret) {
        size_t n = in->eh.e_phnum;
        int r;

        *ret = NULL;
        if (n == 0)
                return 0;
        *ret = calloc(n, sizeof(Elf64_Phdr));
        if (!*ret)
                return -ENOMEM;
        r = pread_full(in->fd, *ret, n * sizeof(Elf64_Phdr), in->eh.e_phoff);
        return r < 0 ? r : put(o, *ret, n * sizeof(Elf64_Phdr)); /* rewritten once sections are placed */
}

static int write_copy(struct elf_in *in, struct out *o, Elf64_Shdr *sh) {
        Elf64_Ehdr eh = in->eh;
        Elf64_Phdr *ph = NULL;
        int r = put(o, &eh, sizeof(eh));

        eh.e_phoff = eh.e_phnum > 0 ? o->pos : 0;
        if (r >= 0)
                r = put_segments(in, o, &ph);
        for (unsigned i = 1; r >= 0 && i < eh.e_shnum; i++)
                r = put_section(in, o, &in->sh[i], &sh[i]);
        if (r >= 0)
                r = pad_to(o, 8);
        eh.e_shoff = o->pos;
        if (r >= 0)
                r = put(o, sh, eh.e_shnum * sizeof(Elf64_Shdr));
        for (unsigned i = 0; r >= 0 && i < eh.e_phnum; i++)
                move_segment(in, sh, &ph[i]);
        if (r >= 0 && ph &&
            pwrite(o->fd, ph, eh.e_phnum * sizeof(*ph), (off_t) eh.e_phoff) != (ssize_t) (eh.e_phnum * sizeof(*ph)))
                r = -EIO;
        if (r >= 0 && pwrite(o->fd, &eh, sizeof(eh), 0) != (ssize_t) sizeof(eh))
                r = -EIO;
        free(ph);
        return r;
}

int elf_inflate_copy(int in_fd, int out_fd) {
        struct elf_in in;
        struct out o = { .fd = out_fd };
        Elf64_Shdr *sh = NULL;
        int r = read_headers(in_fd, &in);

        if (r < 0)
                return r;
        sh = calloc(in.eh.e_shnum, sizeof(*sh));
        o.in_buf = malloc(CHUNK);
        o.out_buf = malloc(CHUNK);
        r = sh && o.in_buf && o.out_buf ? write_copy(&in, &o, sh) : -ENOMEM;
        free(sh);
        free(o.in_buf);
        free(o.out_buf);
        elf_in_done(&in);
        return r;
}
