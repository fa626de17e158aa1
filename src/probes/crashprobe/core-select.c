/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The keep policy of the streaming core reader (see core-select.h). All
 * address arithmetic is on untrusted 64-bit values, so every sum is checked
 * for wrap-around and every range is clipped to the segment's file data.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core-select.h"
#include "macro.h"

#define RED_ZONE 128 /* bytes below the stack pointer a leaf function may use (x86_64 ABI) */

static uint64_t floor_page(const struct core_select *s, uint64_t a) {
        return a & ~(s->page - 1);
}

static uint64_t ceil_page(const struct core_select *s, uint64_t a) {
        return a > UINT64_MAX - (s->page - 1) ? floor_page(s, UINT64_MAX) : floor_page(s, a + s->page - 1);
}

static uint64_t add_clip(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int core_select_init(struct core_select *s, const struct core_caps *caps, uint64_t page) {
        *s = (struct core_select) { .caps = *caps, .page = page };
        s->stacks = calloc(MAX(caps->threads_max, (size_t) 1), sizeof(*s->stacks));
        s->modules = calloc(MAX(caps->module_ranges_max, (size_t) 1), sizeof(*s->modules));
        if (!s->stacks || !s->modules) {
                core_select_done(s);
                return -ENOMEM;
        }
        return 0;
}

void core_select_done(struct core_select *s) {
        free(s->stacks);
        free(s->modules);
        *s = (struct core_select) {};
}

void core_select_add_stack(struct core_select *s, bool have_sp, uint64_t sp, size_t window) {
        struct stack_window w = {};

        if (s->n_stacks >= s->caps.threads_max)
                return;
        if (have_sp) {
                w.r.start = floor_page(s, sp >= RED_ZONE ? sp - RED_ZONE : 0);
                w.r.end = ceil_page(s, add_clip(sp, window));
        }
        s->stacks[s->n_stacks++] = w;
}

void core_select_set_vdso(struct core_select *s, uint64_t addr) {
        s->vdso = addr;
        s->have_vdso = true;
}

bool core_select_segment_whole(struct core_select *s, const struct elf_phdr *seg) {
        if (seg->filesz == 0)
                return false;
        if (s->have_vdso && seg->vaddr == s->vdso && seg->filesz <= s->caps.small_segment_max)
                return true;
        if (seg->filesz > s->caps.small_segment_max || seg->filesz > s->caps.small_segments_budget - s->small_used)
                return false;
        s->small_used += seg->filesz;
        return true;
}

/* Move *hi to r's end if r overlaps or touches [.., *hi) and ends later; true if it moved. */
static bool extend(const struct vrange *r, uint64_t *hi) {
        if (r->start <= *hi && r->end > *hi) {
                *hi = r->end;
                return true;
        }
        return false;
}

/* Lowest start among wishes that end after from, clipped to [from, data_end). */
static bool first_wish(const struct core_select *s, uint64_t from, uint64_t data_end, const struct vrange *page0,
                       struct vrange *ret) {
        bool found = false;

        for (size_t i = 0; i < s->n_stacks + s->n_modules + 1; i++) {
                const struct vrange *r = i < s->n_stacks ? &s->stacks[i].r
                                       : i < s->n_stacks + s->n_modules ? &s->modules[i - s->n_stacks]
                                                                         : page0;
                uint64_t a = MAX(r->start, from), b = MIN(r->end, data_end);

                if (a >= b)
                        continue;
                if (!found || a < ret->start)
                        *ret = (struct vrange) { a, b };
                found = true;
        }
        return found;
}

/* Whether a stack window or module range overlaps r. */
static bool wanted_otherwise(const struct core_select *s, const struct vrange *r) {
        for (size_t i = 0; i < s->n_stacks; i++)
                if (s->stacks[i].r.start < r->end && s->stacks[i].r.end > r->start)
                        return true;
        for (size_t i = 0; i < s->n_modules; i++)
                if (s->modules[i].start < r->end && s->modules[i].end > r->start)
                        return true;
        return false;
}

bool core_select_next(struct core_select *s, const struct elf_phdr *seg, uint64_t from, bool whole,
                      struct keep_range *ret) {
        uint64_t data_end = add_clip(seg->vaddr, seg->filesz);
        struct vrange page0 = {}, r = {};
        bool changed;

        from = MAX(from, seg->vaddr);
        if (from >= data_end)
                return false;
        if (whole) {
                *ret = (struct keep_range) { from, data_end, false };
                return true;
        }
        if (from == seg->vaddr && s->pages_used + s->page <= s->caps.module_pages_budget)
                page0 = (struct vrange) { seg->vaddr, MIN(add_clip(seg->vaddr, s->page), data_end) };
        if (!first_wish(s, from, data_end, &page0, &r))
                return false;

        /* Merge everything that overlaps or touches, until nothing grows. */
        do {
                changed = false;
                for (size_t i = 0; i < s->n_stacks; i++)
                        changed |= extend(&s->stacks[i].r, &r.end);
                for (size_t i = 0; i < s->n_modules; i++)
                        changed |= extend(&s->modules[i], &r.end);
                changed |= extend(&page0, &r.end);
        } while (changed);
        r.end = MIN(r.end, data_end);

        *ret = (struct keep_range) {
                .start = r.start,
                .end = r.end,
                .tentative = r.start == page0.start && r.end == page0.end && !wanted_otherwise(s, &r),
        };
        return true;
}

void core_select_check_clipping(struct core_select *s, const struct elf_phdr *seg) {
        uint64_t data_end = add_clip(seg->vaddr, seg->filesz);

        for (size_t i = 0; i < s->n_stacks; i++) {
                const struct vrange *r = &s->stacks[i].r;

                if (r->end > r->start && r->end > seg->vaddr && r->end < data_end)
                        s->stacks[i].clipped = true;
        }
}

static void add_module_range(struct core_select *s, uint64_t start, uint64_t size, uint64_t kept_end) {
        struct vrange r;

        if (size == 0 || size > s->caps.small_segment_max || start > UINT64_MAX - size)
                return;
        r = (struct vrange) { floor_page(s, start), ceil_page(s, start + size) };
        if (r.end <= kept_end) /* already inside the page we have */
                return;
        r.start = MAX(r.start, kept_end);
        if (s->n_modules >= s->caps.module_ranges_max ||
            r.end - r.start > s->caps.module_ranges_budget - s->modules_used)
                return;
        s->modules[s->n_modules++] = r;
        s->modules_used += r.end - r.start;
}

/* The module's load bias: where its first PT_LOAD (the one mapping file
 * offset 0) was placed, as libdwfl computes it. */
static bool module_bias(const struct core_select *s, const struct elf_layout *m, const uint8_t *ph,
                        uint64_t vaddr, uint64_t *ret) {
        for (size_t i = 0; i < m->phnum; i++) {
                struct elf_phdr p;

                elf_parse_phdr(m, ph + i * m->phentsize, &p);
                if (p.type == PT_LOAD && floor_page(s, p.offset) == 0) {
                        *ret = vaddr - floor_page(s, p.vaddr);
                        return true;
                }
        }
        return false;
}

bool core_select_module_page(struct core_select *s, uint64_t vaddr, const uint8_t *data, size_t len) {
        struct elf_layout m;
        uint64_t bias, kept_end = add_clip(vaddr, len);
        const uint8_t *ph;

        if (elf_parse_ehdr(data, len, &m) < 0)
                return false;
        s->pages_used += len;
        if (m.phoff > len || m.phnum * m.phentsize > len - m.phoff)
                return true; /* an ELF header whose program headers are not in this page */
        ph = data + m.phoff;
        if (!module_bias(s, &m, ph, vaddr, &bias))
                return true;
        for (size_t i = 0; i < m.phnum; i++) {
                struct elf_phdr p;

                elf_parse_phdr(&m, ph + i * m.phentsize, &p);
                if (p.type == PT_DYNAMIC)
                        add_module_range(s, bias + p.vaddr, p.memsz, kept_end);
                else if (p.type == PT_NOTE) /* libdwfl reads notes at start + p_offset */
                        add_module_range(s, add_clip(vaddr, p.offset), p.filesz, kept_end);
        }
        return true;
}
