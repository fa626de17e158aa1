/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sparse in-memory core image (see core-image.h). Every write is checked
 * against the reservation before it happens; the tail of the reservation is
 * set aside at init for the notes and the largest possible program header
 * table, so core_image_finish() cannot run out of room.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "core-image.h"
#include "macro.h"

#define GAP_OFFSET UINT64_MAX /* placeholder until the image size is known */

static size_t align_up(size_t n, size_t a) {
        return (n + a - 1) / a * a;
}

int core_image_init(struct core_image *img, size_t cap, size_t notes_max, size_t page) {
        size_t tail = notes_max + 8 + (CORE_IMAGE_LOADS_MAX + 1) * sizeof(Elf64_Phdr) + 8;
        void *p;

        *img = (struct core_image) {};
        if (page == 0 || (page & (page - 1)) != 0 || cap < page + tail + page)
                return -EINVAL;
        p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
                return negative_errno();
        img->buf = p;
        img->cap = cap;
        img->data_max = cap - tail;
        img->size = page; /* the ELF header's page */
        img->page = page;
        img->notes_max = notes_max;
        return 0;
}

void core_image_done(struct core_image *img) {
        if (img->buf)
                munmap(img->buf, img->cap);
        free(img->loads);
        free(img->notes);
        *img = (struct core_image) {};
}

int core_image_data_begin(struct core_image *img, size_t len, uint8_t **ret) {
        size_t start = align_up(img->size, img->page);

        if (start > img->data_max || len > img->data_max - start)
                return -E2BIG;
        *ret = img->buf + start;
        return 0;
}

size_t core_image_loads_left(const struct core_image *img) {
        return CORE_IMAGE_LOADS_MAX - img->n_loads;
}

static struct elf_phdr *last_load(struct core_image *img) {
        return img->n_loads > 0 ? &img->loads[img->n_loads - 1] : NULL;
}

static int push_load(struct core_image *img, const struct elf_phdr *ph) {
        if (img->n_loads >= CORE_IMAGE_LOADS_MAX)
                return -E2BIG;
        if (img->n_loads == img->alloc_loads) {
                size_t n = MIN(MAX(img->alloc_loads * 2, (size_t) 64), (size_t) CORE_IMAGE_LOADS_MAX);
                struct elf_phdr *l = reallocarray(img->loads, n, sizeof(*l));

                if (!l)
                        return -ENOMEM;
                img->loads = l;
                img->alloc_loads = n;
        }
        img->loads[img->n_loads++] = *ph;
        return 0;
}

int core_image_add_data(struct core_image *img, uint64_t vaddr, size_t n, uint32_t flags, uint64_t align) {
        size_t start = align_up(img->size, img->page);
        struct elf_phdr *prev = last_load(img);
        int r;

        if (n == 0)
                return 0;
        if (start > img->data_max || n > img->data_max - start)
                return -E2BIG;
        if (prev && prev->offset != GAP_OFFSET && prev->flags == flags && prev->vaddr + prev->memsz == vaddr &&
            prev->offset + prev->filesz == start) {
                prev->filesz += n;
                prev->memsz += n;
        } else {
                struct elf_phdr ph = {
                        .type = PT_LOAD, .flags = flags, .offset = start, .vaddr = vaddr,
                        .filesz = n, .memsz = n, .align = align,
                };

                r = push_load(img, &ph);
                if (r < 0)
                        return r;
        }
        img->size = start + n;
        return 0;
}

int core_image_add_gap(struct core_image *img, uint64_t vaddr, uint64_t memsz, uint32_t flags, uint64_t align) {
        struct elf_phdr *prev = last_load(img);
        struct elf_phdr ph = {
                .type = PT_LOAD, .flags = flags, .offset = GAP_OFFSET, .vaddr = vaddr,
                .filesz = 0, .memsz = memsz, .align = align,
        };

        if (memsz == 0)
                return 0;
        if (prev && prev->offset == GAP_OFFSET && prev->flags == flags && prev->vaddr + prev->memsz == vaddr) {
                prev->memsz += memsz;
                return 0;
        }
        return push_load(img, &ph);
}

static int notes_reserve(struct core_image *img, size_t add, uint8_t **ret) {
        uint8_t *n;

        if (add > img->notes_max - img->notes_size)
                return -E2BIG;
        n = realloc(img->notes, img->notes_size + add);
        if (!n)
                return -ENOMEM;
        img->notes = n;
        *ret = n + img->notes_size;
        img->notes_size += add;
        return 0;
}

int core_image_add_note(struct core_image *img, const struct elf_layout *l, const struct elf_nhdr *nh,
                        const uint8_t *name, const uint8_t *desc) {
        uint64_t namesz = elf_note_pad(nh->namesz), descsz = elf_note_pad(nh->descsz);
        uint64_t total = ELF_NHDR_SIZE + namesz + descsz;
        uint8_t *p;
        int r;

        if (total > img->notes_max)
                return -E2BIG;
        r = notes_reserve(img, (size_t) total, &p);
        if (r < 0)
                return r;
        memset(p, 0, (size_t) total);
        elf_put_u32(l, p, nh->namesz);
        elf_put_u32(l, p + 4, nh->descsz);
        elf_put_u32(l, p + 8, nh->type);
        memcpy(p + ELF_NHDR_SIZE, name, nh->namesz);
        memcpy(p + ELF_NHDR_SIZE + namesz, desc, nh->descsz);
        return 0;
}

static void write_ehdr(struct core_image *img, const struct elf_layout *l, size_t phoff, size_t phnum) {
        uint8_t *e = img->buf;

        memset(e, 0, img->page);
        memcpy(e, l->ehdr, l->ehsize);
        if (l->is64) {
                elf_put_u64(l, e + offsetof(Elf64_Ehdr, e_phoff), phoff);
                elf_put_u64(l, e + offsetof(Elf64_Ehdr, e_shoff), 0);
                elf_put_u16(l, e + offsetof(Elf64_Ehdr, e_phnum), (uint16_t) phnum);
                elf_put_u16(l, e + offsetof(Elf64_Ehdr, e_shnum), 0);
                elf_put_u16(l, e + offsetof(Elf64_Ehdr, e_shstrndx), 0);
        } else {
                elf_put_u32(l, e + offsetof(Elf32_Ehdr, e_phoff), (uint32_t) phoff);
                elf_put_u32(l, e + offsetof(Elf32_Ehdr, e_shoff), 0);
                elf_put_u16(l, e + offsetof(Elf32_Ehdr, e_phnum), (uint16_t) phnum);
                elf_put_u16(l, e + offsetof(Elf32_Ehdr, e_shnum), 0);
                elf_put_u16(l, e + offsetof(Elf32_Ehdr, e_shstrndx), 0);
        }
}

int core_image_finish(struct core_image *img, const struct elf_layout *l) {
        size_t notes_off = align_up(img->size, 8), phoff, phnum = img->n_loads + 1, end;
        struct elf_phdr note = { .type = PT_NOTE, .offset = notes_off, .filesz = img->notes_size, .align = 4 };

        if (l->ehsize > img->page)
                return -EINVAL;
        /* Guaranteed by the tail set aside in core_image_init(). */
        phoff = align_up(notes_off + img->notes_size, 8);
        end = phoff + phnum * l->phentsize;
        if (end > img->cap)
                return -E2BIG;
        if (!l->is64 && end > UINT32_MAX)
                return -E2BIG;

        if (img->notes_size > 0)
                memcpy(img->buf + notes_off, img->notes, img->notes_size);
        elf_write_phdr(l, &note, img->buf + phoff);
        for (size_t i = 0; i < img->n_loads; i++) {
                struct elf_phdr ph = img->loads[i];

                if (ph.offset == GAP_OFFSET)
                        ph.offset = end; /* past the last byte: reads of a hole fail */
                elf_write_phdr(l, &ph, img->buf + phoff + (i + 1) * l->phentsize);
        }
        write_ehdr(img, l, phoff, phnum);
        img->size = end;
        return 0;
}
