/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The libdwfl session (see unwind.h). The core given here is either the
 * sparse in-memory image made by the streaming reader (elf_memory) or the
 * core file itself (elf_begin on its fd); libdwfl reads both the same way.
 * Return addresses are looked up at pc - 1 (the call instruction), except in
 * activation frames (signal frames and the crashing frame).
 */
#include <dwarf.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core-source.h"
#include "debug-cache.h"
#include "elf-inflate.h"
#include "macro.h"
#include "payload.h"
#include "strutil.h"
#include "unwind.h"

#define FRAMES_CAPPED_NOTE "Too many frames. Backtrace truncated." /* the original's wording */

struct unwind_ctx {
        Dwfl *dwfl;
        const struct unwind_request *req;
        const struct unwind_sink *sink;
        pid_t crash_tid;
        unsigned frames;    /* in the current thread */
        size_t threads;     /* unwound so far */
        bool capped;        /* the frame cap stopped the current thread */
        bool timed_out;
        bool frame_failed;  /* dwfl_frame_pc() failed in the current thread */
};

#define DEBUG_DIR "/usr/lib/debug"

static char *debuginfo_path = (char *) "-" DEBUG_DIR; /* '-': no CRC check of .gnu_debuglink files */

/*
 * libdwfl's standard callbacks end by asking a debuginfod server, which in
 * elfutils 0.188 means loading libdebuginfod and libcurl (tens of ms and MiB)
 * even when no server is configured. crashprobe never uses the network, so
 * these two stop at the local look-ups.
 */

#define BUILD_ID_PATH_MAX (sizeof(DEBUG_DIR "/.build-id/") + 2 * 64 + sizeof(".debug"))

/* DEBUG_DIR/.build-id/xx/yyyy...suffix for a build-id of n (2..64) bytes. */
static void build_id_path(const unsigned char *id, int n, const char *suffix, char path[BUILD_ID_PATH_MAX]) {
        size_t o = (size_t) snprintf(path, BUILD_ID_PATH_MAX, DEBUG_DIR "/.build-id/%02x/", id[0]);

        for (int i = 1; i < n; i++)
                o += (size_t) snprintf(path + o, BUILD_ID_PATH_MAX - o, "%02x", id[i]);
        snprintf(path + o, BUILD_ID_PATH_MAX - o, "%s", suffix);
}

/* A module's file that NT_FILE did not give (deleted or replaced since the
 * crash): its copy under the build-id directory, or the suggested path.
 * libdwfl checks the build-id of what is returned. */
static int find_elf(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, char **file_name,
                    Elf **elfp) {
        const unsigned char *id;
        char path[BUILD_ID_PATH_MAX];
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(mod, &id, &vaddr), fd;
        char *name;

        *elfp = NULL;
        if (n < 2 || n > 64)
                return *file_name && (*file_name)[0] == '/' ? open(*file_name, O_RDONLY | O_CLOEXEC) : -1;
        build_id_path(id, n, "", path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        name = strdup(path);
        if (!name) {
                close(fd);
                return -1;
        }
        free(*file_name); /* libdwfl's, malloc'ed: the module's file name */
        *file_name = name;
        return fd;
}

/* The cache of uncompressed debug files (debug-cache.h), for this run. */
static const char *cache_dir;
static uint64_t cache_max;

/* A debug file with compressed sections is swapped for its uncompressed
 * copy from the cache, when there is one or it can be made; otherwise fd
 * is returned as it is. */
static int prefer_cached(int fd, const unsigned char *id, int n, char **debuginfo_file_name) {
        char hex[2 * 64 + 1], *path = NULL;
        int cached;

        if (fd < 0 || !cache_dir || !*cache_dir || n < 2 || n > 64 || elf_has_compressed_sections(fd) != 1)
                return fd;
        for (int i = 0; i < n; i++)
                snprintf(hex + 2 * i, 3, "%02x", id[i]);
        cached = debug_cache_open(cache_dir, cache_max, hex, fd, &path);
        if (cached < 0)
                return fd;
        close(fd);
        free(*debuginfo_file_name);
        *debuginfo_file_name = path;
        return cached;
}

/* Is fd an ELF file with this build-id? */
static bool has_build_id(int fd, const unsigned char *id, int n) {
        Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
        const void *got = NULL;
        ssize_t len = elf ? dwelf_elf_gnu_build_id(elf, &got) : -1;
        bool same = len == n && memcmp(got, id, (size_t) n) == 0;

        elf_end(elf);
        return same;
}

/* libdwfl asks again for the dwz file that a debug file names in
 * .gnu_debugaltlink, passing the debug file's name: one we returned. */
static bool is_altlink_lookup(const char *file_name, const char *debuglink_file) {
        size_t len = file_name ? strlen(file_name) : 0;

        return debuglink_file && len > STRLEN(".debug") && streq(file_name + len - STRLEN(".debug"), ".debug") &&
               (startswith(file_name, DEBUG_DIR "/") || (cache_dir && *cache_dir && startswith(file_name, cache_dir)));
}

/* Separate debuginfo: by build-id under /usr/lib/debug, through the cache
 * of uncompressed copies. The file is opened (and its build-id checked)
 * here rather than by dwfl_build_id_find_debuginfo(), which keeps an Elf
 * handle of what it opened inside the module and would read that instead
 * of a copy returned in its place. The dwz file of a debug file, and
 * modules without a build-id, get libdwfl's own look-ups (which never reach
 * a server here: see above). */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
                          const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                          char **debuginfo_file_name) {
        const unsigned char *id;
        char path[BUILD_ID_PATH_MAX];
        GElf_Addr vaddr;
        int n = dwfl_module_build_id(mod, &id, &vaddr), fd;

        if (n >= 2 && n <= 64 && !is_altlink_lookup(file_name, debuglink_file)) {
                build_id_path(id, n, ".debug", path);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && has_build_id(fd, id, n)) {
                        free(*debuginfo_file_name);
                        *debuginfo_file_name = strdup(path); /* NULL only costs the name in messages */
                        return prefer_cached(fd, id, n, debuginfo_file_name);
                }
                if (fd >= 0)
                        close(fd);
        }
        if (n > 0)
                return dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                                    debuglink_crc, debuginfo_file_name);
        return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
                                            debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks dwfl_callbacks = {
        .find_elf = find_elf,
        .find_debuginfo = find_debuginfo,
        .debuginfo_path = &debuginfo_path,
};

static void note(const struct unwind_ctx *c, const char *fmt, ...) _printf_(2, 3);
static void note(const struct unwind_ctx *c, const char *fmt, ...) {
        char buf[PAYLOAD_NOTE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        c->sink->note(c->sink->userdata, buf);
}

static void note_error(const struct unwind_ctx *c, const char *fmt, ...) _printf_(2, 3);
static void note_error(const struct unwind_ctx *c, const char *fmt, ...) {
        char buf[PAYLOAD_NOTE_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        c->sink->error(c->sink->userdata, buf);
}

/* The lookup address in the module's own ELF address space. */
static uint64_t module_offset(Dwfl_Module *mod, Dwarf_Addr addr) {
        Dwarf_Addr bias = 0, start = 0;

        if (dwfl_module_getelf(mod, &bias))
                return addr - bias;
        dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
        return addr - start;
}

static void describe(Dwfl *dwfl, Dwarf_Addr addr, struct frame_desc *f) {
        Dwfl_Module *mod = dwfl_addrmodule(dwfl, addr);
        const unsigned char *id = NULL;
        GElf_Addr id_vaddr;
        Dwfl_Line *line;
        int len;

        *f = (struct frame_desc) {};
        if (!mod)
                return;
        f->module = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        if (!f->module)
                f->module = "???";
        f->function = dwfl_module_addrname(mod, addr);
        if (!f->function) {
                len = dwfl_module_build_id(mod, &id, &id_vaddr);
                f->build_id = len > 0 ? id : NULL;
                f->build_id_len = len > 0 ? (size_t) len : 0;
                f->offset = module_offset(mod, addr);
                return;
        }
        line = dwfl_module_getsrc(mod, addr);
        if (line)
                f->file = dwfl_lineinfo(line, NULL, &f->line, NULL, NULL, NULL);
}

static int frame_cb(Dwfl_Frame *state, void *arg) {
        struct unwind_ctx *c = arg;
        char line[PAYLOAD_LINE_MAX + 1];
        struct frame_desc f;
        Dwarf_Addr pc;
        bool activation;

        if (c->frames >= c->req->frames_max) {
                c->capped = true;
                return DWARF_CB_ABORT;
        }
        if (now_ms() >= c->req->deadline_ms) {
                c->timed_out = true;
                return DWARF_CB_ABORT;
        }
        if (!dwfl_frame_pc(state, &pc, &activation)) {
                c->frame_failed = true;
                return DWARF_CB_ABORT;
        }
        describe(c->dwfl, activation || pc == 0 ? pc : pc - 1, &f);
        payload_format_frame(line, sizeof(line), c->frames++, &f);
        c->sink->frame(c->sink->userdata, line);
        return DWARF_CB_OK;
}

static ssize_t thread_index(const struct core_info *info, pid_t tid) {
        for (size_t i = 0; i < info->n_threads; i++)
                if (info->threads[i].tid == tid)
                        return (ssize_t) i;
        return -1;
}

/* Turn how a thread's unwinding ended into notes, or the record's error. */
static void thread_done(struct unwind_ctx *c, pid_t tid, int r) {
        ssize_t i = thread_index(c->req->info, tid);
        bool crashing = tid == c->crash_tid, clipped = i >= 0 && c->req->info->stack_clipped[i];
        char msg[PAYLOAD_NOTE_MAX];

        if (c->capped)
                c->sink->note(c->sink->userdata, FRAMES_CAPPED_NOTE);
        if (c->timed_out || (r >= 0 && !c->frame_failed))
                return;
        snprintf(msg, sizeof(msg), "%s", dwfl_errmsg(-1));
        if (clipped && c->frames > 0)
                note(c, "Backtrace of TID %d truncated: its stack goes on past the part that was kept (%s).",
                     (int) tid, msg);
        else if (crashing)
                note_error(c, "Cannot unwind the crashing thread (TID %d): %s", (int) tid, msg);
        else
                note(c, "Backtrace of TID %d is incomplete: %s", (int) tid, msg);
}

static void unwind_one(struct unwind_ctx *c, Dwfl_Thread *thread, pid_t tid) {
        int r;

        c->frames = 0;
        c->capped = c->frame_failed = false;
        c->sink->thread(c->sink->userdata, tid);
        if (thread)
                r = dwfl_thread_getframes(thread, frame_cb, c);
        else
                r = dwfl_getthread_frames(c->dwfl, tid, frame_cb, c);
        c->threads++;
        thread_done(c, tid, r);
}

static int thread_cb(Dwfl_Thread *thread, void *arg) {
        struct unwind_ctx *c = arg;
        pid_t tid = dwfl_thread_tid(thread);

        if (tid == c->crash_tid)
                return DWARF_CB_OK;
        if (c->timed_out || c->threads >= c->req->threads_max)
                return DWARF_CB_ABORT;
        unwind_one(c, thread, tid);
        return DWARF_CB_OK;
}

static int open_session(Elf *elf, const struct unwind_sink *sink, Dwfl **ret) {
        char msg[PAYLOAD_NOTE_MAX];
        Dwfl *dwfl = dwfl_begin(&dwfl_callbacks);

        if (!dwfl) {
                snprintf(msg, sizeof(msg), "Cannot start libdwfl: %s", dwfl_errmsg(-1));
                goto fail;
        }
        if (dwfl_core_file_report(dwfl, elf, NULL) < 0) {
                snprintf(msg, sizeof(msg), "Cannot find the modules in the core: %s", dwfl_errmsg(-1));
                goto fail;
        }
        if (dwfl_report_end(dwfl, NULL, NULL) != 0 || dwfl_core_file_attach(dwfl, elf) < 0) {
                snprintf(msg, sizeof(msg), "Cannot read the threads in the core: %s", dwfl_errmsg(-1));
                goto fail;
        }
        *ret = dwfl;
        return 0;
fail:
        dwfl_end(dwfl);
        sink->error(sink->userdata, msg);
        return -EINVAL;
}

int unwind_core(Elf *elf, const struct unwind_request *req, const struct unwind_sink *sink) {
        const struct core_info *info = req->info;
        struct unwind_ctx c = { .req = req, .sink = sink, .crash_tid = info->threads[info->crash_index].tid };
        int r;

        if (!elf) {
                char msg[PAYLOAD_NOTE_MAX];

                snprintf(msg, sizeof(msg), "Cannot read the core: %s", elf_errmsg(-1));
                sink->error(sink->userdata, msg);
                return -EINVAL;
        }
        cache_dir = req->debug_cache_dir;
        cache_max = req->debug_cache_max;
        r = open_session(elf, sink, &c.dwfl);
        if (r < 0)
                return r;
        unwind_one(&c, NULL, c.crash_tid);
        if (!c.timed_out && c.threads < req->threads_max)
                (void) dwfl_getthreads(c.dwfl, thread_cb, &c);
        if (c.timed_out)
                note(&c, "Backtrace truncated: unwinding took longer than the time limit.");
        dwfl_end(c.dwfl);
        return 0;
}
