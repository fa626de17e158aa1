/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The streaming core reader (see core-stream.h). The input is consumed
 * strictly forward: program headers and notes are processed in file-offset
 * order, and a range that lies behind the current position (overlapping
 * headers in a corrupt core) is treated as missing, never re-read. Every loop
 * advances the position or stops, so a core of any shape ends the read.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-select.h"
#include "core-stream.h"
#include "macro.h"

#define NOTE_NAME_MAX 16 /* "CORE" and "LINUX" are all we use */
#define PAGE_MIN 4096
#define PAGE_MAX (1024 * 1024)

struct reader {
        const struct core_input *in;
        const struct core_caps *caps;
        struct core_info *info;
        bool keep;
        uint64_t pos;
        bool stopped; /* end of input or an input error */

        struct elf_phdr *phdrs;
        size_t phnum;
        struct core_select sel;
        size_t stacks_added;

        ssize_t group;    /* thread group of the current note: index of the last NT_PRSTATUS */
        bool keep_group;  /* notes of the current group are kept */
        ssize_t sig_group; /* the group that carried NT_SIGINFO */
};

static void stop(struct reader *rd, int error) {
        rd->stopped = true;
        rd->info->truncated = true;
        if (error < 0 && rd->info->input_error == 0)
                rd->info->input_error = error;
}

/* Read exactly len bytes unless the input ends; returns the count. */
static size_t rd_read(struct reader *rd, void *buf, size_t len) {
        size_t done = 0;

        while (done < len && !rd->stopped) {
                ssize_t n = rd->in->read(rd->in->ctx, (uint8_t *) buf + done, len - done);

                if (n < 0)
                        stop(rd, (int) n);
                else if (n == 0)
                        stop(rd, 0);
                else {
                        done += (size_t) n;
                        rd->pos += (uint64_t) n;
                }
        }
        return done;
}

/* Move forward to offset; false if it lies behind us or the input ended. */
static bool rd_seek(struct reader *rd, uint64_t offset) {
        if (rd->stopped || offset < rd->pos)
                return false;
        while (rd->pos < offset && !rd->stopped) {
                int64_t n = rd->in->skip(rd->in->ctx, offset - rd->pos);

                if (n < 0)
                        stop(rd, (int) n);
                else if (n == 0)
                        stop(rd, 0);
                else
                        rd->pos += (uint64_t) n;
        }
        return !rd->stopped;
}

static int read_headers(struct reader *rd) {
        struct elf_layout *l = &rd->info->layout;
        uint8_t ident[ELF_EHDR_MAX], *buf;
        size_t size, ehsize;
        int r;

        if (rd_read(rd, ident, EI_NIDENT) < EI_NIDENT)
                return rd->info->input_error < 0 ? rd->info->input_error : -EBADMSG;
        ehsize = ident[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
        if (rd_read(rd, ident + EI_NIDENT, ehsize - EI_NIDENT) < ehsize - EI_NIDENT)
                return rd->info->input_error < 0 ? rd->info->input_error : -EBADMSG;
        r = elf_parse_ehdr(ident, ehsize, l);
        if (r < 0)
                return r;
        if (l->type != ET_CORE)
                return -ENOEXEC;
        if (l->phoff < ehsize)
                return -EBADMSG; /* program headers inside the ELF header */
        if (!rd_seek(rd, l->phoff))
                return rd->info->input_error < 0 ? rd->info->input_error : -ENODATA;

        size = l->phnum * l->phentsize; /* at most 0xfffe * 56 */
        buf = malloc(size);
        rd->phdrs = calloc(l->phnum, sizeof(*rd->phdrs));
        if (!buf || !rd->phdrs) {
                free(buf);
                return -ENOMEM;
        }
        if (rd_read(rd, buf, size) < size) {
                free(buf);
                return rd->info->input_error < 0 ? rd->info->input_error : -ENODATA; /* a core, cut short */
        }
        for (size_t i = 0; i < l->phnum; i++) {
                elf_parse_phdr(l, buf + i * l->phentsize, &rd->phdrs[i]);
                /* Bytes past p_memsz are not memory; ignore them. */
                rd->phdrs[i].filesz = MIN(rd->phdrs[i].filesz, rd->phdrs[i].type == PT_LOAD ? rd->phdrs[i].memsz
                                                                                             : UINT64_MAX);
        }
        rd->phnum = l->phnum;
        free(buf);
        return 0;
}

/* The segment alignment libdwfl will use: the smallest p_align above 1. */
static uint64_t core_page(const struct reader *rd) {
        uint64_t a = 0;

        for (size_t i = 0; i < rd->phnum; i++)
                if (rd->phdrs[i].type == PT_LOAD && rd->phdrs[i].align > 1 && (a == 0 || rd->phdrs[i].align < a))
                        a = rd->phdrs[i].align;
        if (a < PAGE_MIN || a > PAGE_MAX || (a & (a - 1)) != 0)
                return PAGE_MIN;
        return a;
}

struct visit {
        uint64_t offset;
        size_t index;
};

static int visit_cmp(const void *a, const void *b) {
        const struct visit *x = a, *y = b;

        if (x->offset != y->offset)
                return x->offset < y->offset ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* The headers to visit, in file order: notes, and loads if memory is kept. */
static struct visit *visit_order(const struct reader *rd, size_t *ret_n) {
        struct visit *v = calloc(MAX(rd->phnum, (size_t) 1), sizeof(*v));
        size_t n = 0;

        if (!v)
                return NULL;
        for (size_t i = 0; i < rd->phnum; i++)
                if (rd->phdrs[i].type == PT_NOTE || (rd->keep && rd->phdrs[i].type == PT_LOAD))
                        v[n++] = (struct visit) { rd->phdrs[i].offset, i };
        qsort(v, n, sizeof(*v), visit_cmp);
        *ret_n = n;
        return v;
}

/* ---- notes */

static bool note_is_process_wide(uint32_t type) {
        return type == NT_PRPSINFO || type == NT_AUXV || type == NT_FILE || type == NT_SIGINFO;
}

/* Take what crashprobe itself needs from a CORE note. */
static void parse_note(struct reader *rd, const struct elf_nhdr *nh, const uint8_t *desc) {
        struct core_info *info = rd->info;
        const struct elf_layout *l = &info->layout;
        uint64_t vdso;
        pid_t pid;

        switch (nh->type) {
        case NT_PRPSINFO:
                if (!info->have_pid && core_parse_prpsinfo(l, desc, nh->descsz, &pid) == 0) {
                        info->pid = pid;
                        info->have_pid = true;
                }
                break;
        case NT_SIGINFO:
                if (info->siginfo_signo == 0 && core_parse_siginfo(l, desc, nh->descsz, &info->siginfo_signo) == 0)
                        rd->sig_group = rd->group;
                break;
        case NT_AUXV:
                if (core_parse_auxv(l, desc, nh->descsz, AT_SYSINFO_EHDR, &vdso) == 0)
                        core_select_set_vdso(&rd->sel, vdso);
                break;
        default:
                break;
        }
}

/* A new thread group starts; its NT_PRSTATUS decides whether it is kept. */
static bool start_thread(struct reader *rd, const struct elf_nhdr *nh, const uint8_t *desc,
                         struct core_thread *ret) {
        rd->group++;
        rd->info->total_threads++;
        rd->keep_group = false;
        if (!desc || rd->info->n_threads >= rd->caps->threads_max)
                return false;
        return core_parse_prstatus(&rd->info->layout, desc, nh->descsz, ret) == 0;
}

static int keep_note(struct reader *rd, const struct elf_nhdr *nh, const uint8_t *name, const uint8_t *desc) {
        int r = core_image_add_note(&rd->info->image, &rd->info->layout, nh, name, desc);

        if (r == -E2BIG) {
                rd->info->notes_limited = true;
                return 0;
        }
        return r < 0 ? r : 1;
}

static int note_body(struct reader *rd, const struct elf_nhdr *nh, const uint8_t *name, bool is_core,
                     uint64_t descsz) {
        bool prstatus = is_core && nh->type == NT_PRSTATUS, wide = is_core && note_is_process_wide(nh->type);
        size_t cap = is_core && nh->type == NT_FILE ? rd->caps->file_note_max : rd->caps->thread_note_max;
        bool parsed = is_core && (nh->type == NT_PRPSINFO || nh->type == NT_SIGINFO || nh->type == NT_AUXV);
        bool want = prstatus || parsed || (rd->keep && (wide || (name && rd->keep_group)));
        _cleanup_free_ uint8_t *desc = NULL;
        struct core_thread t;
        int kept = 1;

        if (want && nh->descsz > cap) {
                rd->info->notes_limited = true;
                want = false;
        }
        if (want) {
                desc = malloc(MAX(descsz, (uint64_t) 1));
                if (!desc)
                        return -ENOMEM;
                if (rd_read(rd, desc, descsz) < descsz)
                        return 0;
        } else if (!rd_seek(rd, rd->pos + descsz))
                return 0;

        if (prstatus && !start_thread(rd, nh, desc, &t))
                return 0;
        if (!desc)
                return 0;
        if (is_core)
                parse_note(rd, nh, desc);
        if (rd->keep && (prstatus || wide || rd->keep_group)) {
                kept = keep_note(rd, nh, name, desc);
                if (kept < 0)
                        return kept;
        }
        if (prstatus && kept > 0) {
                rd->info->threads[rd->info->n_threads++] = t;
                rd->keep_group = true;
        }
        return 0;
}

/* Read one note at the current position; false when the segment is done. */
static int stream_one_note(struct reader *rd, uint64_t end) {
        uint8_t hdr[ELF_NHDR_SIZE], name[NOTE_NAME_MAX] = {};
        uint64_t namesz, descsz;
        struct elf_nhdr nh;
        bool known = false, is_core = false;

        if (rd_read(rd, hdr, sizeof(hdr)) < sizeof(hdr))
                return 0;
        elf_parse_nhdr(&rd->info->layout, hdr, &nh);
        namesz = elf_note_pad(nh.namesz);
        descsz = elf_note_pad(nh.descsz);
        if (namesz > end - rd->pos || descsz > end - rd->pos - namesz)
                return 0; /* runs past its segment: corrupt, stop here */
        if (namesz <= sizeof(name)) {
                if (rd_read(rd, name, namesz) < namesz)
                        return 0;
                is_core = nh.namesz == 5 && memcmp(name, "CORE", 5) == 0;
                known = is_core || (nh.namesz == 6 && memcmp(name, "LINUX", 6) == 0);
        } else if (!rd_seek(rd, rd->pos + namesz))
                return 0;
        return note_body(rd, &nh, known ? name : NULL, is_core, descsz) < 0 ? -ENOMEM : 1;
}

static void add_stack_windows(struct reader *rd) {
        struct core_info *info = rd->info;
        size_t crash = rd->sig_group >= 0 && (size_t) rd->sig_group < info->n_threads ? (size_t) rd->sig_group : 0;

        for (; rd->stacks_added < info->n_threads; rd->stacks_added++) {
                const struct core_thread *t = &info->threads[rd->stacks_added];

                core_select_add_stack(&rd->sel, t->have_sp, t->sp,
                                      rd->stacks_added == crash ? rd->caps->stack_window_crashing
                                                                : rd->caps->stack_window_other);
        }
}

static int stream_notes(struct reader *rd, const struct elf_phdr *ph) {
        uint64_t end;
        int r = 1;

        if (ph->offset > UINT64_MAX - ph->filesz || !rd_seek(rd, ph->offset))
                return 0;
        end = ph->offset + ph->filesz;
        while (r > 0 && !rd->stopped && rd->pos <= end && end - rd->pos >= ELF_NHDR_SIZE)
                r = stream_one_note(rd, end);
        if (r < 0)
                return r;
        add_stack_windows(rd);
        return 0;
}

/* ---- memory segments */

/* Read one selected range into the image. Returns 0 or -errno; *cur moves past
 * what is now described (holes included). */
static int keep_range(struct reader *rd, const struct elf_phdr *seg, const struct keep_range *k, uint64_t *cur) {
        struct core_image *img = &rd->info->image;
        size_t len = k->end - k->start, n;
        uint8_t *p;
        int r;

        if (!rd_seek(rd, seg->offset + (k->start - seg->vaddr)))
                return 0;
        if (core_image_data_begin(img, len, &p) < 0) {
                rd->info->memory_limited = true;
                return 0;
        }
        n = rd_read(rd, p, len);
        if (n == 0)
                return 0;
        if (k->start == seg->vaddr) {
                bool elf = core_select_module_page(&rd->sel, k->start, p, MIN(n, (size_t) rd->sel.page));

                if (k->tentative && !elf)
                        return 0;
        }
        r = core_image_add_gap(img, *cur, k->start - *cur, seg->flags, seg->align);
        if (r >= 0)
                r = core_image_add_data(img, k->start, n, seg->flags, seg->align);
        if (r == -E2BIG) {
                rd->info->memory_limited = true;
                return 0;
        }
        if (r < 0)
                return r;
        *cur = k->start + n;
        return 0;
}

static int stream_load(struct reader *rd, const struct elf_phdr *seg, size_t loads_after) {
        struct core_image *img = &rd->info->image;
        uint64_t cur = seg->vaddr, from = seg->vaddr;
        struct keep_range k;
        bool whole = false, readable;
        int r;

        if (seg->offset > UINT64_MAX - seg->filesz || seg->vaddr > UINT64_MAX - seg->memsz)
                return 0; /* cannot describe it: leave it out */
        /* Data behind the current position (overlapping another part) is missing. */
        readable = !rd->stopped && seg->offset >= rd->pos;
        if (readable) {
                whole = core_select_segment_whole(&rd->sel, seg);
                if (!whole)
                        core_select_check_clipping(&rd->sel, seg);
        }
        while (readable && !rd->stopped && core_select_next(&rd->sel, seg, from, whole, &k)) {
                /* Each range may split the segment in three; keep one header per later segment. */
                if (core_image_loads_left(img) < loads_after + 3) {
                        rd->info->memory_limited = true;
                        break;
                }
                r = keep_range(rd, seg, &k, &cur);
                if (r < 0)
                        return r;
                from = k.end;
        }
        r = core_image_add_gap(img, cur, seg->vaddr + seg->memsz - cur, seg->flags, seg->align);
        return r == -E2BIG ? 0 : r;
}

static void finish_threads(struct reader *rd) {
        struct core_info *info = rd->info;

        info->crash_index = 0;
        if (rd->sig_group >= 0 && (size_t) rd->sig_group < info->n_threads)
                info->crash_index = (size_t) rd->sig_group;
        for (size_t i = 0; i < info->n_threads && i < rd->sel.n_stacks; i++)
                info->stack_clipped[i] = rd->sel.stacks[i].clipped;
}

static int read_body(struct reader *rd) {
        _cleanup_free_ struct visit *order = NULL;
        size_t n = 0, loads_left = 0;
        int r;

        order = visit_order(rd, &n);
        if (!order)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                loads_left += rd->phdrs[order[i].index].type == PT_LOAD;
        for (size_t i = 0; i < n; i++) {
                const struct elf_phdr *ph = &rd->phdrs[order[i].index];

                if (ph->type == PT_NOTE)
                        r = stream_notes(rd, ph);
                else
                        r = stream_load(rd, ph, --loads_left);
                if (r < 0)
                        return r;
        }
        return 0;
}

int core_read(const struct core_input *in, const struct core_caps *caps, bool keep_memory,
              struct core_info *info) {
        struct reader rd = { .in = in, .caps = caps, .info = info, .keep = keep_memory, .group = -1, .sig_group = -1 };
        int r;

        *info = (struct core_info) {};
        info->threads = calloc(MAX(caps->threads_max, (size_t) 1), sizeof(*info->threads));
        info->stack_clipped = calloc(MAX(caps->threads_max, (size_t) 1), sizeof(*info->stack_clipped));
        if (!info->threads || !info->stack_clipped) {
                r = -ENOMEM;
                goto out;
        }
        r = read_headers(&rd);
        if (r < 0)
                goto out;
        r = core_select_init(&rd.sel, caps, core_page(&rd));
        if (r < 0)
                goto out;
        if (keep_memory) {
                r = core_image_init(&info->image, caps->image_max, caps->notes_max, rd.sel.page);
                if (r < 0)
                        goto out;
                info->have_image = true;
        }
        r = read_body(&rd);
        if (r < 0)
                goto out;
        finish_threads(&rd);
        if (info->n_threads == 0 || !info->have_pid) {
                r = -ENODATA;
                goto out;
        }
        if (keep_memory)
                r = core_image_finish(&info->image, &info->layout);
out:
        info->bytes_consumed = rd.pos;
        free(rd.phdrs);
        core_select_done(&rd.sel);
        if (r < 0)
                core_info_done(info);
        return r;
}

void core_info_done(struct core_info *info) {
        free(info->threads);
        free(info->stack_clipped);
        if (info->have_image)
                core_image_done(&info->image);
        info->threads = NULL;
        info->stack_clipped = NULL;
        info->n_threads = 0;
        info->have_image = false;
}
